/**
 * The cluster HistoryStore: PostgreSQL, shared by every instance. A room's seq is allocated under
 * the lock of its `rooms` row inside the same statement that inserts the event, so concurrent
 * instances never share or skip a seq; the clientMsgId check runs under that lock too.
 * @see https://node-postgres.com
 */
import pg from 'pg';
import { indexText, type Phrase } from '../../shared/search.js';
import type { Refusal } from '../protocol.js';
import {
  type AppendInput,
  type AppendResult,
  type Change,
  type FoundMessage,
  type HistoryStore,
  type KeptDirect,
  type LoggedMember,
  type ReadOptions,
  type RoomEffect,
  type RoomInfo,
  type SearchOptions,
  SearchUnavailable,
  type StoredEvent,
} from './history-store.js';
import {
  erasedEdit,
  erasedQuote,
  moderatorsAfter,
  presenceFromRows,
  roomInfoOf,
  splitAroundSeq,
  tsqueryOf,
  tsvectorOf,
  withQuoteNow,
  wordsOf,
} from './shared.js';

/** A step of the schema: SQL, or work that needs more than SQL (run inside the step's transaction). */
export type Migration = string | ((client: pg.PoolClient) => Promise<void>);

/** Versioned migrations, applied in order under an advisory lock; never edit one that shipped. */
export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE rooms (
     room TEXT PRIMARY KEY,
     last_seq BIGINT NOT NULL
   );
   CREATE TABLE events (
     room TEXT NOT NULL,
     seq BIGINT NOT NULL,
     type TEXT NOT NULL,
     member_id TEXT NOT NULL,
     client_msg_id TEXT,
     json TEXT NOT NULL,
     PRIMARY KEY (room, seq)
   );
   CREATE UNIQUE INDEX events_client_msg_id ON events (room, member_id, client_msg_id)
     WHERE client_msg_id IS NOT NULL;
   CREATE INDEX events_member ON events (room, member_id, seq);
   CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   -- one round trip per append: lock the room, answer a clientMsgId retry with the original, or
   -- take the next seq and insert; the JSON text is stored with its seq spliced in
   CREATE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                   p_head TEXT, p_tail TEXT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE plpgsql AS $$
   DECLARE
     v_seq BIGINT;
   BEGIN
     INSERT INTO rooms (room, last_seq) VALUES (p_room, 0) ON CONFLICT (room) DO NOTHING;
     SELECT r.last_seq INTO v_seq FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF p_cmid IS NOT NULL THEN
       RETURN QUERY SELECT e.seq, e.json, TRUE FROM events e
         WHERE e.room = p_room AND e.member_id = p_member AND e.client_msg_id = p_cmid;
       IF FOUND THEN RETURN; END IF;
     END IF;
     v_seq := v_seq + 1;
     UPDATE rooms SET last_seq = v_seq WHERE room = p_room;
     INSERT INTO events (room, seq, type, member_id, client_msg_id, json)
       VALUES (p_room, v_seq, p_type, p_member, p_cmid, p_head || v_seq || p_tail);
     RETURN QUERY SELECT v_seq, p_head || v_seq || p_tail, FALSE;
   END $$;`,
  // 2: when each room's last event happened (ms), to find rooms to erase; rooms already there
  // count from the upgrade. The append takes the event's time; the 6-argument form stays for
  // instances of the previous version during a rolling upgrade.
  `ALTER TABLE rooms ADD COLUMN last_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now()) * 1000)::BIGINT;
   CREATE INDEX rooms_last_at ON rooms (last_at);
   CREATE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                   p_head TEXT, p_tail TEXT, p_at BIGINT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE plpgsql AS $$
   DECLARE
     v_seq BIGINT;
   BEGIN
     INSERT INTO rooms (room, last_seq, last_at) VALUES (p_room, 0, p_at) ON CONFLICT (room) DO NOTHING;
     SELECT r.last_seq INTO v_seq FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'room % was erased meanwhile', p_room; END IF;
     IF p_cmid IS NOT NULL THEN
       RETURN QUERY SELECT e.seq, e.json, TRUE FROM events e
         WHERE e.room = p_room AND e.member_id = p_member AND e.client_msg_id = p_cmid;
       IF FOUND THEN RETURN; END IF;
     END IF;
     v_seq := v_seq + 1;
     -- last_at goes by presence events (a room with a message is never erased): a message leaves
     -- the indexed column alone, so its update stays a cheap in-place one
     IF p_type <> 'message' THEN
       UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at) WHERE room = p_room;
     ELSE
       UPDATE rooms SET last_seq = v_seq WHERE room = p_room;
     END IF;
     INSERT INTO events (room, seq, type, member_id, client_msg_id, json)
       VALUES (p_room, v_seq, p_type, p_member, p_cmid, p_head || v_seq || p_tail);
     RETURN QUERY SELECT v_seq, p_head || v_seq || p_tail, FALSE;
   END $$;
   CREATE OR REPLACE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                              p_head TEXT, p_tail TEXT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE sql AS $$
     SELECT * FROM roomchat_append(p_room, p_type, p_member, p_cmid, p_head, p_tail,
                                   (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)
   $$;`,
  // 3: delivered direct messages, for their two members (n: the order they were kept in)
  `CREATE TABLE directs (
     n BIGSERIAL PRIMARY KEY,
     room TEXT NOT NULL,
     id TEXT NOT NULL,
     from_id TEXT NOT NULL,
     to_id TEXT NOT NULL,
     at BIGINT NOT NULL,
     json TEXT NOT NULL
   );
   CREATE INDEX directs_from ON directs (room, from_id, at);
   CREATE INDEX directs_to ON directs (room, to_id, at);`,
  // 4: what a welcome says of a room: its owner (the member whose join is seq 1), topic and moderators
  `ALTER TABLE rooms ADD COLUMN owner TEXT;
   ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
   ALTER TABLE rooms ADD COLUMN moderators TEXT NOT NULL DEFAULT '[]';
   UPDATE rooms SET owner = e.member_id FROM events e WHERE e.room = rooms.room AND e.seq = 1 AND e.type = 'join';
   CREATE OR REPLACE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                              p_head TEXT, p_tail TEXT, p_at BIGINT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE plpgsql AS $$
   DECLARE
     v_seq BIGINT;
   BEGIN
     INSERT INTO rooms (room, last_seq, last_at) VALUES (p_room, 0, p_at) ON CONFLICT (room) DO NOTHING;
     SELECT r.last_seq INTO v_seq FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'room % was erased meanwhile', p_room; END IF;
     IF p_cmid IS NOT NULL THEN
       RETURN QUERY SELECT e.seq, e.json, TRUE FROM events e
         WHERE e.room = p_room AND e.member_id = p_member AND e.client_msg_id = p_cmid;
       IF FOUND THEN RETURN; END IF;
     END IF;
     v_seq := v_seq + 1;
     -- last_at goes by presence events (a room with a message is never erased): a message leaves
     -- the indexed column alone, so its update stays a cheap in-place one
     IF p_type = 'message' THEN
       UPDATE rooms SET last_seq = v_seq WHERE room = p_room;
     ELSIF v_seq = 1 AND p_type = 'join' THEN
       UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at), owner = p_member WHERE room = p_room;
     ELSE
       UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at) WHERE room = p_room;
     END IF;
     INSERT INTO events (room, seq, type, member_id, client_msg_id, json)
       VALUES (p_room, v_seq, p_type, p_member, p_cmid, p_head || v_seq || p_tail);
     RETURN QUERY SELECT v_seq, p_head || v_seq || p_tail, FALSE;
   END $$;`,
  // 5: a message's id (and the message an edit, delete or react is about), and what a reply
  // answers; the append takes both (the 7-argument form stays for a rolling upgrade)
  `ALTER TABLE events ADD COLUMN msg_id TEXT;
   ALTER TABLE events ADD COLUMN reply_to TEXT;
   ALTER TABLE events ADD COLUMN state TEXT;
   -- the id is the first "id" of a message's text as the server writes it (no JSON parsing: text
   -- that older versions stored with an escaped NUL character would stop a JSON cast)
   UPDATE events SET msg_id = substring(json FROM '"id":"([^"]*)"') WHERE type = 'message';
   CREATE INDEX events_msg ON events (room, msg_id) WHERE msg_id IS NOT NULL;
   CREATE INDEX events_reply ON events (room, reply_to) WHERE reply_to IS NOT NULL;
   CREATE TABLE bans (room TEXT NOT NULL, member_id TEXT NOT NULL, until BIGINT NOT NULL,
                      PRIMARY KEY (room, member_id));
   CREATE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                   p_head TEXT, p_tail TEXT, p_at BIGINT, p_msg_id TEXT, p_reply_to TEXT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE plpgsql AS $$
   DECLARE
     v_seq BIGINT;
   BEGIN
     INSERT INTO rooms (room, last_seq, last_at) VALUES (p_room, 0, p_at) ON CONFLICT (room) DO NOTHING;
     SELECT r.last_seq INTO v_seq FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'room % was erased meanwhile', p_room; END IF;
     IF p_cmid IS NOT NULL THEN
       RETURN QUERY SELECT e.seq, e.json, TRUE FROM events e
         WHERE e.room = p_room AND e.member_id = p_member AND e.client_msg_id = p_cmid;
       IF FOUND THEN RETURN; END IF;
     END IF;
     v_seq := v_seq + 1;
     IF p_type = 'message' THEN
       UPDATE rooms SET last_seq = v_seq WHERE room = p_room;
     ELSIF v_seq = 1 AND p_type = 'join' THEN
       UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at), owner = p_member WHERE room = p_room;
     ELSE
       UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at) WHERE room = p_room;
     END IF;
     INSERT INTO events (room, seq, type, member_id, client_msg_id, json, msg_id, reply_to)
       VALUES (p_room, v_seq, p_type, p_member, p_cmid, p_head || v_seq || p_tail, p_msg_id, p_reply_to);
     RETURN QUERY SELECT v_seq, p_head || v_seq || p_tail, FALSE;
   END $$;
   CREATE OR REPLACE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                              p_head TEXT, p_tail TEXT, p_at BIGINT)
   RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE sql AS $$
     SELECT * FROM roomchat_append(p_room, p_type, p_member, p_cmid, p_head, p_tail, p_at,
                                   CASE WHEN p_type = 'message' THEN substring(p_tail FROM '"id":"([^"]*)"') END, NULL)
   $$;`,
  // 6: uploaded files and their thumbnails, every instance reading and writing them here
  // (src/files/postgres.ts)
  `CREATE TABLE files (
     id TEXT PRIMARY KEY,
     room TEXT NOT NULL,
     member_id TEXT NOT NULL,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     size BIGINT NOT NULL,
     width INTEGER,
     height INTEGER,
     at BIGINT NOT NULL,
     message_id TEXT,
     body BYTEA NOT NULL,
     thumb BYTEA
   );
   CREATE INDEX files_unattached ON files (at) WHERE message_id IS NULL;`,
  // 7: search. Each message's terms (src/shared/search.ts) as a tsvector with their positions, in
  // a GIN index; the append takes them (the 9-argument form stays for a rolling upgrade: what an
  // instance of the previous version appends is not found). The messages already there are
  // indexed now, in pages.
  async (client) => {
    await client.query('ALTER TABLE events ADD COLUMN words tsvector');
    for (let after = { room: '', seq: 0 }; ; ) {
      const { rows } = await client.query<{ room: string; seq: string; json: string }>(
        `SELECT room, seq, json FROM events WHERE type = 'message' AND (room, seq) > ($1, $2)
          ORDER BY room, seq LIMIT 5000`,
        [after.room, after.seq],
      );
      if (rows.length === 0) break;
      const words = rows.map((r) => tsvectorOf(wordsOf(r.json)));
      await client.query(
        `UPDATE events e SET words = w.words::tsvector
           FROM unnest($1::text[], $2::bigint[], $3::text[]) AS w(room, seq, words)
          WHERE e.room = w.room AND e.seq = w.seq AND w.words IS NOT NULL`,
        [rows.map((r) => r.room), rows.map((r) => r.seq), words],
      );
      const last = rows[rows.length - 1] as { room: string; seq: string };
      after = { room: last.room, seq: Number(last.seq) };
    }
    await client.query(`CREATE INDEX events_words ON events USING gin (words);
      CREATE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                      p_head TEXT, p_tail TEXT, p_at BIGINT, p_msg_id TEXT, p_reply_to TEXT,
                                      p_words TEXT)
      RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE plpgsql AS $$
      DECLARE
        v_seq BIGINT;
      BEGIN
        INSERT INTO rooms (room, last_seq, last_at) VALUES (p_room, 0, p_at) ON CONFLICT (room) DO NOTHING;
        SELECT r.last_seq INTO v_seq FROM rooms r WHERE r.room = p_room FOR UPDATE;
        IF NOT FOUND THEN RAISE EXCEPTION 'room % was erased meanwhile', p_room; END IF;
        IF p_cmid IS NOT NULL THEN
          RETURN QUERY SELECT e.seq, e.json, TRUE FROM events e
            WHERE e.room = p_room AND e.member_id = p_member AND e.client_msg_id = p_cmid;
          IF FOUND THEN RETURN; END IF;
        END IF;
        v_seq := v_seq + 1;
        IF p_type = 'message' THEN
          UPDATE rooms SET last_seq = v_seq WHERE room = p_room;
        ELSIF v_seq = 1 AND p_type = 'join' THEN
          UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at), owner = p_member WHERE room = p_room;
        ELSE
          UPDATE rooms SET last_seq = v_seq, last_at = GREATEST(last_at, p_at) WHERE room = p_room;
        END IF;
        INSERT INTO events (room, seq, type, member_id, client_msg_id, json, msg_id, reply_to, words)
          VALUES (p_room, v_seq, p_type, p_member, p_cmid, p_head || v_seq || p_tail, p_msg_id, p_reply_to,
                  p_words::tsvector);
        RETURN QUERY SELECT v_seq, p_head || v_seq || p_tail, FALSE;
      END $$;
      CREATE OR REPLACE FUNCTION roomchat_append(p_room TEXT, p_type TEXT, p_member TEXT, p_cmid TEXT,
                                                 p_head TEXT, p_tail TEXT, p_at BIGINT, p_msg_id TEXT, p_reply_to TEXT)
      RETURNS TABLE (seq BIGINT, json TEXT, duplicate BOOLEAN) LANGUAGE sql AS $$
        SELECT * FROM roomchat_append(p_room, p_type, p_member, p_cmid, p_head, p_tail, p_at, p_msg_id, p_reply_to, NULL)
      $$;`);
  },
];

/** A room is erasable (see HistoryStore.emptyRooms): the condition on a `rooms` row `r`; $1 is `before`. */
const ERASABLE = `r.last_at < $1
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.room = r.room AND e.type = 'message')
  AND (SELECT COUNT(*) FROM events e WHERE e.room = r.room AND e.type = 'join')
    = (SELECT COUNT(*) FROM events e WHERE e.room = r.room AND e.type = 'leave')`;

/** Any number: the advisory lock that serializes migrations of concurrent instances. */
const MIGRATION_LOCK = 0x726f6f6d;

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  connectionString: string;
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /** Called for errors of idle connections (the server went away); the pool replaces them. */
  onError?(err: Error): void;
  /** false: new messages are not indexed for search (what `npm run bench` compares against). @default true */
  searchIndex?: boolean;
  /** How long one search may run before PostgreSQL stops it (ms). @default 2000 */
  searchTimeoutMs?: number;
}

export class PostgresStore implements HistoryStore {
  readonly #pool: pg.Pool;
  /** Searches have connections of their own: a slow one never holds up an append. */
  readonly #searchPool: pg.Pool;
  readonly #searchIndex: boolean;
  readonly #searchTimeoutMs: number;

  private constructor(pool: pg.Pool, searchPool: pg.Pool, searchIndex: boolean, searchTimeoutMs: number) {
    this.#pool = pool;
    this.#searchPool = searchPool;
    this.#searchIndex = searchIndex;
    this.#searchTimeoutMs = searchTimeoutMs;
  }

  /** Connect and bring the schema up to date. */
  static async open({
    connectionString,
    poolSize = 10,
    onError,
    searchIndex = true,
    searchTimeoutMs = 2000,
  }: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 3000 });
    pool.on('error', (err) => onError?.(err));
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    // a search waits at most its own time for a connection too
    const searchPool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: searchTimeoutMs });
    searchPool.on('error', (err) => onError?.(err));
    return new PostgresStore(pool, searchPool, searchIndex, searchTimeoutMs);
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (!input.effect && !input.replyTo) return appendOn(this.#pool, input, this.#searchIndex);
    return this.#inTransaction(async (client) => {
      let event = input;
      if (input.replyTo) {
        // the message answered, locked as an amend locks it: deleted meanwhile, its quote is stored empty
        const { rows } = await client.query<MessageRow>(
          "SELECT seq, member_id, json, state FROM events WHERE room = $1 AND msg_id = $2 AND type = 'message' FOR SHARE",
          [input.draft.room, input.replyTo],
        );
        event = withQuoteNow(input, foundOf(rows[0]));
      }
      const result = await appendOn(client, event, this.#searchIndex);
      if (!result.duplicate && input.effect) await applyEffect(client, input.draft.room, input.effect);
      return result;
    });
  }

  async #inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr; // the connection is unusable: the pool drops it
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async bannedUntil(room: string, memberId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ until: string }>(
      'SELECT until FROM bans WHERE room = $1 AND member_id = $2',
      [room, memberId],
    );
    return Number(rows[0]?.until ?? 0);
  }

  async joinedOf(room: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.#pool.query<{ id: string }>(
      "SELECT DISTINCT member_id AS id FROM events WHERE room = $1 AND type = 'join' AND member_id = ANY($2)",
      [room, ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  async findMessage(room: string, id: string): Promise<FoundMessage | null> {
    const { rows } = await this.#pool.query<MessageRow>(
      "SELECT seq, member_id, json, state FROM events WHERE room = $1 AND msg_id = $2 AND type = 'message'",
      [room, id],
    );
    return foundOf(rows[0]);
  }

  /** The message's row is locked first, then (by the append) the room's, as every amend does. */
  async amend(room: string, id: string, change: Change): Promise<AppendResult | Refusal | null> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<MessageRow>(
        "SELECT seq, member_id, json, state FROM events WHERE room = $1 AND msg_id = $2 AND type = 'message' FOR UPDATE",
        [room, id],
      );
      const found = foundOf(rows[0]);
      const decided = change(found);
      if (decided === null || 'code' in decided || !found) {
        await client.query('ROLLBACK');
        // an amendment of no message is a mistake of `change`: nothing to amend
        return decided === null || 'code' in decided ? decided : null;
      }
      // every row the amendment rewrites is locked before the room's row (which the append locks),
      // in seq order: the same order as every other amend, so none waits on another in a cycle
      const rewritten = decided.erase
        ? await client.query<{ seq: string; type: string; json: string }>(
            `SELECT seq, type, json FROM events
              WHERE room = $1 AND ((msg_id = $2 AND type = 'edit') OR reply_to = $2)
              ORDER BY seq FOR UPDATE`,
            [room, id],
          )
        : null;
      const result = await appendOn(client, decided.event, this.#searchIndex);
      if (!result.duplicate) {
        const rewrite = (json: string, seq: number) =>
          client.query('UPDATE events SET json = $1 WHERE room = $2 AND seq = $3', [json, room, seq]);
        // the search terms follow the text (a reaction leaves them alone)
        const words = wordsOf(decided.message);
        await client.query(
          `UPDATE events SET json = $1, state = $2, words = CASE WHEN $5 THEN $6::tsvector ELSE words END
            WHERE room = $3 AND seq = $4`,
          [
            decided.message,
            decided.state === undefined ? found.state : decided.state,
            room,
            found.seq,
            words !== wordsOf(found.json),
            tsvectorOf(words),
          ],
        );
        for (const e of rewritten?.rows ?? []) {
          await rewrite(e.type === 'edit' ? erasedEdit(e.json) : erasedQuote(e.json), Number(e.seq));
        }
      }
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr; // the connection is unusable: the pool drops it
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async read(room: string, { afterSeq = 0, beforeSeq, limit, keep = 'newest' }: ReadOptions): Promise<StoredEvent[]> {
    const order = keep === 'oldest' ? 'ASC' : 'DESC';
    const { rows } = await this.#pool.query<{ seq: string; json: string }>(
      `SELECT seq, json FROM events WHERE room = $1 AND seq > $2 AND seq < $3 ORDER BY seq ${order} LIMIT $4`,
      [room, afterSeq, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit],
    );
    const events = rows.map((r) => ({ seq: Number(r.seq), json: r.json }));
    return keep === 'oldest' ? events : events.reverse();
  }

  /**
   * On connections of its own, under a statement timeout: a query past it is cancelled by
   * PostgreSQL, and a search finding no free connection in that time gives up (SearchUnavailable).
   */
  async search(room: string, phrases: readonly Phrase[], { beforeSeq, limit }: SearchOptions): Promise<StoredEvent[]> {
    if (phrases.length === 0) return [];
    const unavailable = new SearchUnavailable(
      `the search took longer than ${this.#searchTimeoutMs} ms and was stopped`,
    );
    let client: pg.PoolClient;
    try {
      client = await this.#searchPool.connect();
    } catch {
      throw unavailable; // every search connection stayed busy for a whole timeout
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(this.#searchTimeoutMs)}`);
      const { rows } = await client.query<{ seq: string; json: string }>(
        "SELECT seq, json FROM events WHERE room = $1 AND seq < $2 AND type = 'message' AND words @@ $3::tsquery ORDER BY seq DESC LIMIT $4",
        [room, beforeSeq ?? Number.MAX_SAFE_INTEGER, tsqueryOf(phrases), limit],
      );
      await client.query('COMMIT');
      return rows.map((r) => ({ seq: Number(r.seq), json: r.json }));
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr; // the connection is unusable: the pool drops it
      });
      if ((err as { code?: string }).code === '57014') throw unavailable;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async latestSeq(room: string): Promise<number> {
    const { rows } = await this.#pool.query<{ last_seq: string }>('SELECT last_seq FROM rooms WHERE room = $1', [room]);
    return Number(rows[0]?.last_seq ?? 0);
  }

  async loggedMembers(room: string): Promise<LoggedMember[]> {
    const { rows } = await this.#pool.query<{ type: string; json: string }>(
      `SELECT e.type, e.json FROM events e
         JOIN (SELECT member_id, MAX(seq) AS seq FROM events
                WHERE room = $1 AND type IN ('join', 'leave', 'rename') GROUP BY member_id) last
           ON e.room = $1 AND e.seq = last.seq`,
      [room],
    );
    return presenceFromRows(rows);
  }

  async rooms(after: string, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ room: string }>(
      'SELECT room FROM rooms WHERE room > $1 ORDER BY room LIMIT $2',
      [after, limit],
    );
    return rows.map((r) => r.room);
  }

  async emptyRooms(before: number, after: string, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ room: string }>(
      `SELECT r.room FROM rooms r WHERE r.room > $2 AND ${ERASABLE} ORDER BY r.room LIMIT $3`,
      [before, after, limit],
    );
    return rows.map((r) => r.room);
  }

  async eraseEmptyRoom(room: string, before: number): Promise<boolean> {
    // the room's row is locked as an append locks it, so no event slips in between check and erase
    const { rows } = await this.#pool.query<{ room: string }>(
      `WITH target AS (SELECT r.room FROM rooms r WHERE r.room = $2 AND ${ERASABLE} FOR UPDATE),
            gone AS (DELETE FROM events WHERE room IN (SELECT room FROM target)),
            gone_directs AS (DELETE FROM directs WHERE room IN (SELECT room FROM target)),
            gone_bans AS (DELETE FROM bans WHERE room IN (SELECT room FROM target) AND until < $1)
       DELETE FROM rooms WHERE room IN (SELECT room FROM target) RETURNING room`,
      [before, room],
    );
    return rows.length > 0;
  }

  async roomInfo(room: string): Promise<RoomInfo> {
    const { rows } = await this.#pool.query<{ owner: string | null; topic: string; moderators: string }>(
      'SELECT owner, topic, moderators FROM rooms WHERE room = $1',
      [room],
    );
    const row = rows[0];
    return roomInfoOf(row?.owner ?? null, row?.topic ?? '', row?.moderators ?? '[]');
  }

  async keepDirect({ room, id, fromId, toId, at, json }: KeptDirect): Promise<void> {
    await this.#pool.query('INSERT INTO directs (room, id, from_id, to_id, at, json) VALUES ($1, $2, $3, $4, $5, $6)', [
      room,
      id,
      fromId,
      toId,
      at,
      json,
    ]);
  }

  async directsOf(room: string, memberId: string, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ json: string }>(
      `SELECT json FROM (
         SELECT n, at, json FROM directs WHERE room = $1 AND from_id = $2
         UNION
         SELECT n, at, json FROM directs WHERE room = $1 AND to_id = $2) mine
       ORDER BY at DESC, n DESC LIMIT $3`,
      [room, memberId, limit],
    );
    return rows.map((r) => r.json).reverse();
  }

  async eraseOldEvents(room: string, before: number, limit: number): Promise<number> {
    await this.#pool.query('DELETE FROM directs WHERE room = $1 AND at < $2', [room, before]);
    const { rowCount } = await this.#pool.query(
      `DELETE FROM events WHERE room = $1 AND seq IN (
         SELECT seq FROM (SELECT seq, json FROM events WHERE room = $1 ORDER BY seq LIMIT $3) oldest
          WHERE (oldest.json::json ->> 'ts') < $2)`,
      [room, new Date(before).toISOString(), limit],
    );
    return rowCount ?? 0;
  }

  /** No cache: every instance appends, so only PostgreSQL knows a room's latest seq. */
  get cachedRooms(): number {
    return 0;
  }

  async secret(candidate: string): Promise<string> {
    const { rows } = await this.#pool.query<{ value: string }>(
      `WITH ins AS (INSERT INTO settings (key, value) VALUES ('server_secret', $1) ON CONFLICT (key) DO NOTHING RETURNING value)
       SELECT value FROM ins UNION ALL SELECT value FROM settings WHERE key = 'server_secret'`,
      [candidate],
    );
    if (rows[0]) return rows[0].value;
    // another instance stored it after this statement's snapshot was taken: a new statement sees it
    const stored = await this.#pool.query<{ value: string }>("SELECT value FROM settings WHERE key = 'server_secret'");
    if (!stored.rows[0]) throw new Error('the server secret could be neither stored nor read');
    return stored.rows[0].value;
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.end(), this.#searchPool.end()]);
  }
}

interface MessageRow {
  seq: string;
  member_id: string;
  json: string;
  state: string | null;
}

const foundOf = (row: MessageRow | undefined): FoundMessage | null =>
  row ? { seq: Number(row.seq), memberId: row.member_id, json: row.json, state: row.state } : null;

/** An event's effect on what the store keeps of the room, inside the event's transaction. */
async function applyEffect(client: pg.PoolClient, room: string, effect: RoomEffect): Promise<void> {
  if (effect.kind === 'topic') {
    await client.query('UPDATE rooms SET topic = $1 WHERE room = $2', [effect.text, room]);
  } else if (effect.kind === 'ban') {
    await client.query(
      `INSERT INTO bans (room, member_id, until) VALUES ($1, $2, $3)
         ON CONFLICT (room, member_id) DO UPDATE SET until = excluded.until`,
      [room, effect.member, effect.until],
    );
  } else {
    // the append locked the room's row: read and write the moderators under that lock
    const { rows } = await client.query<{ moderators: string }>('SELECT moderators FROM rooms WHERE room = $1', [room]);
    await client.query('UPDATE rooms SET moderators = $1 WHERE room = $2', [
      moderatorsAfter(rows[0]?.moderators ?? '[]', effect),
      room,
    ]);
  }
}

/** Append on the pool or on a client inside a transaction. */
async function appendOn(db: pg.Pool | pg.PoolClient, input: AppendInput, index: boolean): Promise<AppendResult> {
  const { draft, memberId, clientMsgId, msgId, replyTo } = input;
  const [head, tail] = splitAroundSeq(draft);
  const { rows } = await db.query<{ seq: string; json: string; duplicate: boolean }>(
    'SELECT seq, json, duplicate FROM roomchat_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [
      draft.room,
      draft.type,
      memberId,
      clientMsgId ?? null,
      head,
      tail,
      Date.parse(draft.ts) || 0,
      msgId ?? (draft.type === 'message' ? draft.id : null),
      replyTo ?? null,
      draft.type === 'message' && index ? tsvectorOf(indexText(draft.text)) : null,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('roomchat_append returned nothing');
  return { event: { seq: Number(row.seq), json: row.json }, duplicate: row.duplicate };
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS roomchat_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM roomchat_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the database has schema version ${current}, newer than this server (${MIGRATIONS.length})`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query('BEGIN');
      try {
        const step = MIGRATIONS[v] as Migration;
        if (typeof step === 'string') await client.query(step);
        else await step(client);
        await client.query('INSERT INTO roomchat_migrations (version) VALUES ($1)', [v + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    // the lock belongs to this connection: when the unlock fails the connection is broken, and
    // releasing it with the error makes the pool drop it, which frees the lock as well
    const unlocked = await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
      () => undefined,
      (err: Error) => err,
    );
    client.release(unlocked);
  }
}
