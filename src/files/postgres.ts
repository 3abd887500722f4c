/**
 * The cluster FileStore: PostgreSQL, so every instance serves every file. The table is created by
 * the history store's migrations (src/chat/store/postgres.ts); attaching is one statement.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { ChatFile, FileStore, StoredFile } from './file-store.js';

interface Row {
  id: string;
  room: string;
  member_id: string;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  at: string;
  message_id: string | null;
}

const FIELDS = 'id, room, member_id, name, type, size, width, height, at, message_id';

function fileOf(row: Row): ChatFile {
  const file: ChatFile = { id: row.id, name: row.name, type: row.type, size: Number(row.size) };
  if (row.width !== null && row.height !== null) {
    file.width = row.width;
    file.height = row.height;
  }
  return file;
}

export class PostgresFileStore implements FileStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** The bytes go in one parameter: a file is in memory once, as it is sent to PostgreSQL. */
  async put(
    { file, room, memberId, at }: StoredFile,
    source: Buffer | { path: string },
    thumb: Buffer | null,
  ): Promise<void> {
    const body = Buffer.isBuffer(source) ? source : await readFile(source.path);
    await this.#pool.query(
      `INSERT INTO files (id, room, member_id, name, type, size, width, height, at, body, thumb)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        file.id,
        room,
        memberId,
        file.name,
        file.type,
        file.size,
        file.width ?? null,
        file.height ?? null,
        at,
        body,
        thumb,
      ],
    );
  }

  async get(id: string): Promise<StoredFile | null> {
    const { rows } = await this.#pool.query<Row>(`SELECT ${FIELDS} FROM files WHERE id = $1`, [id]);
    const row = rows[0];
    return row
      ? { file: fileOf(row), room: row.room, memberId: row.member_id, at: Number(row.at), messageId: row.message_id }
      : null;
  }

  async read(id: string, thumb: boolean): Promise<Buffer | null> {
    const { rows } = await this.#pool.query<{ data: Buffer | null }>(
      `SELECT ${thumb ? 'thumb' : 'body'} AS data FROM files WHERE id = $1`,
      [id],
    );
    return rows[0]?.data ?? null;
  }

  async attach(ids: readonly string[], room: string, memberId: string, messageId: string): Promise<ChatFile[] | null> {
    if (new Set(ids).size !== ids.length) return null;
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(
        `UPDATE files SET message_id = $4
          WHERE id = ANY($1) AND room = $2 AND member_id = $3 AND message_id IS NULL
          RETURNING ${FIELDS}`,
        [ids, room, memberId, messageId],
      );
      if (rows.length !== ids.length) {
        await client.query('ROLLBACK');
        return null;
      }
      await client.query('COMMIT');
      const byId = new Map(rows.map((r) => [r.id, fileOf(r)]));
      return ids.map((id) => byId.get(id) as ChatFile);
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async detach(ids: readonly string[], messageId: string): Promise<void> {
    await this.#pool.query('UPDATE files SET message_id = NULL WHERE id = ANY($1) AND message_id = $2', [
      ids,
      messageId,
    ]);
  }

  async erase(ids: readonly string[]): Promise<void> {
    await this.#pool.query('DELETE FROM files WHERE id = ANY($1)', [ids]);
  }

  async unattached(before: number, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'SELECT id FROM files WHERE message_id IS NULL AND at < $1 LIMIT $2',
      [before, limit],
    );
    return rows.map((r) => r.id);
  }

  /** The pool is the history store's: it closes it. */
  async close(): Promise<void> {}
}
