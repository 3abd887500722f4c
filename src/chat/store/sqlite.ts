/**
 * The embedded HistoryStore: one SQLite file (WAL), written by this process only.
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AppendInput,
  AppendResult,
  HistoryStore,
  LoggedMember,
  ReadOptions,
  StoredEvent,
} from './history-store.js';
import { presenceFromRows, splitAroundSeq } from './shared.js';

const MIGRATIONS: readonly string[] = [
  // 1: the log, one row per event; seq is per room and gap-free
  `CREATE TABLE events (
     room TEXT NOT NULL,
     seq INTEGER NOT NULL,
     type TEXT NOT NULL,
     member_id TEXT NOT NULL,
     client_msg_id TEXT,
     json TEXT NOT NULL,
     PRIMARY KEY (room, seq)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX events_client_msg_id ON events (room, member_id, client_msg_id)
     WHERE client_msg_id IS NOT NULL;
   CREATE INDEX events_member ON events (room, member_id, seq);`,
  // 2: deployment-wide settings (the member-id secret)
  `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
];

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created. `:memory:` for a throwaway store. */
  path: string;
  /**
   * `full`: a commit is on disk before it is acknowledged (survives power loss); `normal`: it
   * survives a crash of the process. Appends are group-committed either way. @default 'full'
   */
  durability?: 'full' | 'normal';
}

interface PendingAppend {
  input: AppendInput;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export class SqliteStore implements HistoryStore {
  readonly #db: Database.Database;
  /** Latest seq per room: this process is the file's only writer, so the cache stays true. */
  readonly #latest = new Map<string, number>();
  readonly #stmt;
  readonly #appendBatch: (inputs: AppendInput[]) => AppendResult[];
  /** Appends waiting for the next group commit. */
  #pending: PendingAppend[] = [];

  constructor({ path, durability = 'full' }: SqliteStoreOptions) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    const db = this.#db;
    this.#stmt = {
      maxSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM events WHERE room = ?'),
      byClientMsgId: db.prepare<[string, string, string], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND member_id = ? AND client_msg_id = ?',
      ),
      insert: db.prepare<[string, number, string, string, string | null, string]>(
        'INSERT INTO events (room, seq, type, member_id, client_msg_id, json) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      newest: db.prepare<[string, number, number, number], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      oldest: db.prepare<[string, number, number, number], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?',
      ),
      insertSetting: db.prepare<[string, string]>('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)'),
      setting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      presence: db.prepare<[string, string], { type: string; json: string }>(
        `SELECT e.type, e.json FROM events e
           JOIN (SELECT member_id, MAX(seq) AS seq FROM events
                  WHERE room = ? AND type IN ('join', 'leave', 'rename') GROUP BY member_id) last
             ON e.seq = last.seq
          WHERE e.room = ?`,
      ),
    };
    this.#appendBatch = db.transaction((inputs: AppendInput[]) => inputs.map((input) => this.#appendNow(input)));
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`the history file has schema version ${current}, newer than this server (${MIGRATIONS.length})`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v] as string);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  #latestSeq(room: string): number {
    let seq = this.#latest.get(room);
    if (seq === undefined) {
      seq = this.#stmt.maxSeq.get(room)?.s ?? 0;
      this.#latest.set(room, seq);
    }
    return seq;
  }

  #appendNow({ draft, memberId, clientMsgId }: AppendInput): AppendResult {
    const room = draft.room;
    if (clientMsgId !== undefined) {
      const original = this.#stmt.byClientMsgId.get(room, memberId, clientMsgId);
      if (original) return { event: original, duplicate: true };
    }
    const seq = this.#latestSeq(room) + 1;
    const [head, tail] = splitAroundSeq(draft);
    const json = `${head}${seq}${tail}`;
    this.#stmt.insert.run(room, seq, draft.type, memberId, clientMsgId ?? null, json);
    this.#latest.set(room, seq);
    return { event: { seq, json }, duplicate: false };
  }

  /**
   * Group commit: the appends of one turn of the event loop (the frames that arrived together)
   * share one transaction, so one sync to disk, and are acknowledged after it, in order.
   */
  append(input: AppendInput): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#commit());
      this.#pending.push({ input, resolve, reject });
    });
  }

  #commit(): void {
    const batch = this.#pending;
    this.#pending = [];
    let results: AppendResult[];
    try {
      results = this.#appendBatch(batch.map((p) => p.input));
    } catch (err) {
      // the transaction wrote nothing: forget the cached seqs so the next append reads the truth
      this.#latest.clear();
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(results[i] as AppendResult);
  }

  async read(room: string, { afterSeq = 0, beforeSeq, limit, keep = 'newest' }: ReadOptions): Promise<StoredEvent[]> {
    const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    if (keep === 'oldest') return this.#stmt.oldest.all(room, afterSeq, before, limit);
    return this.#stmt.newest.all(room, afterSeq, before, limit).reverse();
  }

  async latestSeq(room: string): Promise<number> {
    return this.#latestSeq(room);
  }

  async loggedMembers(room: string): Promise<LoggedMember[]> {
    return presenceFromRows(this.#stmt.presence.all(room, room));
  }

  async secret(candidate: string): Promise<string> {
    this.#stmt.insertSetting.run('server_secret', candidate);
    return (this.#stmt.setting.get('server_secret') as { value: string }).value;
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
