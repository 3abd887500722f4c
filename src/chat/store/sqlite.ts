/**
 * The embedded HistoryStore: one SQLite file (WAL), written by this process only.
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fts5Query, ftsText, type Phrase } from '../../shared/search.js';
import type { Refusal } from '../protocol.js';
import type {
  AppendInput,
  AppendResult,
  Change,
  FoundMessage,
  HistoryStore,
  KeptDirect,
  LoggedMember,
  ReadOptions,
  RoomEffect,
  RoomInfo,
  SearchOptions,
  StoredEvent,
} from './history-store.js';
import {
  erasedEdit,
  erasedQuote,
  moderatorsAfter,
  presenceFromRows,
  roomInfoOf,
  splitAroundSeq,
  withQuoteNow,
} from './shared.js';
import { type SearchRequest, SearchWorker, searcher } from './sqlite-search.js';

/** What a stored message is indexed under in FTS5 (ftsText); '' for a deleted one or one without text. */
function ftsOf(json: string): string {
  const { text } = JSON.parse(json) as { text?: unknown };
  return typeof text === 'string' ? ftsText(text) : '';
}

/** A step of the schema: SQL, or work that needs more than SQL (run inside the step's transaction). */
type Migration = string | ((db: Database.Database) => void);

const MIGRATIONS: readonly Migration[] = [
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
  // 3: each room's seq and the time of its last event (ms), kept when old events are erased and
  // used to find rooms to erase; rooms already there count from the upgrade
  `CREATE TABLE rooms (room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_at INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO rooms (room, last_seq, last_at)
     SELECT room, MAX(seq), CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM events GROUP BY room;
   CREATE INDEX rooms_last_at ON rooms (last_at);`,
  // 4: delivered direct messages, for their two members (rowid: the order they were kept in)
  `CREATE TABLE directs (room TEXT NOT NULL, id TEXT NOT NULL, from_id TEXT NOT NULL, to_id TEXT NOT NULL,
                         at INTEGER NOT NULL, json TEXT NOT NULL);
   CREATE INDEX directs_from ON directs (room, from_id, at);
   CREATE INDEX directs_to ON directs (room, to_id, at);`,
  // 5: what a welcome says of a room: its owner (the member whose join is seq 1), topic and moderators
  `ALTER TABLE rooms ADD COLUMN owner TEXT;
   ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
   ALTER TABLE rooms ADD COLUMN moderators TEXT NOT NULL DEFAULT '[]';
   UPDATE rooms SET owner = (SELECT e.member_id FROM events e WHERE e.room = rooms.room AND e.seq = 1 AND e.type = 'join');`,
  // 6: a message's id (and the message an edit, delete or react is about), and what a reply answers
  `ALTER TABLE events ADD COLUMN msg_id TEXT;
   ALTER TABLE events ADD COLUMN reply_to TEXT;
   ALTER TABLE events ADD COLUMN state TEXT;
   UPDATE events SET msg_id = json_extract(json, '$.id') WHERE type = 'message';
   CREATE INDEX events_msg ON events (room, msg_id) WHERE msg_id IS NOT NULL;
   CREATE INDEX events_reply ON events (room, reply_to) WHERE reply_to IS NOT NULL;
   CREATE TABLE bans (room TEXT NOT NULL, member_id TEXT NOT NULL, until INTEGER NOT NULL,
                      PRIMARY KEY (room, member_id)) WITHOUT ROWID;`,
  // 7: search. Each message's terms (src/shared/search.ts) in an FTS5 index that keeps neither
  // the text nor its size (contentless, columnsize=0): a delete names the terms it removes (the
  // `delete` command, from the stored message), and with `secure-delete` they are erased from the
  // index pages rather than hidden. Segments are merged 16 at a time rather than 4: less work per
  // append, for searches that stay fast (bench/search.ts). A row's id is the room's number times
  // 2^32 plus the message's seq, so a room's matches are one range of ids, newest last. Messages
  // already there are indexed now.
  (db) => {
    db.exec(`CREATE TABLE search_rooms (n INTEGER PRIMARY KEY, room TEXT NOT NULL UNIQUE);
             CREATE VIRTUAL TABLE search USING fts5(words, content='', columnsize=0, tokenize='ascii');
             INSERT INTO search (search, rank) VALUES ('secure-delete', 1);
             INSERT INTO search (search, rank) VALUES ('automerge', 16);`);
    indexAll(db);
  },
];

/** Index every stored message (search_rooms and search empty): migration 7, and a rebuild. */
function indexAll(db: Database.Database): void {
  const rooms = db.prepare<[], { room: string }>("SELECT DISTINCT room FROM events WHERE type = 'message'").all();
  const number = db.prepare<[string]>('INSERT INTO search_rooms (room) VALUES (?)');
  const messages = db.prepare<[string, number], { seq: number; json: string }>(
    "SELECT seq, json FROM events WHERE room = ? AND seq > ? AND type = 'message' ORDER BY seq LIMIT 5000",
  );
  const index = db.prepare<[bigint, string]>('INSERT INTO search (rowid, words) VALUES (?, ?)');
  for (const { room } of rooms) {
    const n = BigInt(number.run(room).lastInsertRowid);
    // in pages: a statement cannot write while another one's rows are being read
    for (let page = messages.all(room, 0); page.length > 0; page = messages.all(room, page.at(-1)?.seq ?? 0)) {
      for (const { seq, json } of page) {
        const words = ftsOf(json);
        if (words !== '') index.run((n << 32n) | BigInt(seq), words);
      }
    }
  }
}

/** A room is erasable (see HistoryStore.emptyRooms): the condition on a `rooms` row `r`. */
const ERASABLE = `r.last_at < @before
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.room = r.room AND e.type = 'message')
  AND (SELECT COUNT(*) FROM events e WHERE e.room = r.room AND e.type = 'join')
    = (SELECT COUNT(*) FROM events e WHERE e.room = r.room AND e.type = 'leave')`;

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created. `:memory:` for a throwaway store. */
  path: string;
  /**
   * `full`: a commit is on disk before it is acknowledged (survives power loss); `normal`: it
   * survives a crash of the process. Appends are group-committed either way. @default 'full'
   */
  durability?: 'full' | 'normal';
  /** Rooms whose latest seq is kept in memory; the least recently used go first. @default 10000 */
  latestCacheRooms?: number;
  /** A failure of work the store does on its own (the checkpoint after a delete), to be logged. */
  onError?(err: unknown): void;
  /** false: new messages are not indexed for search (what `npm run bench` compares against). @default true */
  searchIndex?: boolean;
  /** How long one search may run before it is stopped (ms). @default 2000 */
  searchTimeoutMs?: number;
}

interface PendingAppend {
  input: AppendInput;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export class SqliteStore implements HistoryStore {
  readonly #db: Database.Database;
  /**
   * Latest seq of the rooms used lately (a Map keeps insertion order: the first key is the least
   * recently used). This process is the file's only writer, so the cache stays true.
   */
  readonly #latest = new Map<string, number>();
  readonly #latestMax: number;
  /** Numbers of the rooms used lately in the search index (bounded as #latest is). */
  readonly #roomNumbers = new Map<string, bigint>();
  readonly #stmt;
  readonly #appendBatch: (inputs: AppendInput[]) => AppendResult[];
  readonly #eraseRoom: (room: string, before: number) => boolean;
  readonly #eraseOld: (room: string, before: string, limit: number) => number;
  readonly #amend: (room: string, id: string, change: Change) => AppendResult | Refusal | null;
  readonly #onError: (err: unknown) => void;
  readonly #searchIndex: boolean;
  /** Searches: in a worker thread for a file, on this connection for a store in memory. */
  readonly #search: (request: SearchRequest) => Promise<StoredEvent[]>;
  readonly #searchWorker: SearchWorker | null;
  #checkpointDue = false;
  /** Appends waiting for the next group commit. */
  #pending: PendingAppend[] = [];

  constructor({
    path,
    durability = 'full',
    latestCacheRooms = 10_000,
    onError,
    searchIndex = true,
    searchTimeoutMs = 2000,
  }: SqliteStoreOptions) {
    this.#latestMax = latestCacheRooms;
    this.#searchIndex = searchIndex;
    this.#onError =
      onError ??
      ((err) => {
        throw err; // no one to tell: let it be seen
      });
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.#db.pragma('busy_timeout = 5000');
    // a deleted message's text is overwritten on disk, not left in a free page
    this.#db.pragma('secure_delete = ON');
    this.#migrate();
    this.#checkSearchTerms(searchIndex);
    const db = this.#db;
    this.#stmt = {
      // the rooms row may lag behind the log (messages do not touch it), never the other way
      lastSeq: db.prepare<[string, string], { s: number }>(
        `SELECT max(coalesce((SELECT last_seq FROM rooms WHERE room = ?), 0),
                    coalesce((SELECT MAX(seq) FROM events WHERE room = ?), 0)) AS s`,
      ),
      touchRoom: db.prepare<[string, number, number]>(
        `INSERT INTO rooms (room, last_seq, last_at) VALUES (?, ?, ?)
           ON CONFLICT (room) DO UPDATE SET last_seq = excluded.last_seq, last_at = max(last_at, excluded.last_at)`,
      ),
      setTopic: db.prepare<[string, string]>('UPDATE rooms SET topic = ? WHERE room = ?'),
      moderators: db.prepare<[string], { moderators: string }>('SELECT moderators FROM rooms WHERE room = ?'),
      setModerators: db.prepare<[string, string]>('UPDATE rooms SET moderators = ? WHERE room = ?'),
      ban: db.prepare<[string, string, number]>(
        `INSERT INTO bans (room, member_id, until) VALUES (?, ?, ?)
           ON CONFLICT (room, member_id) DO UPDATE SET until = excluded.until`,
      ),
      bannedUntil: db.prepare<[string, string], { until: number }>(
        'SELECT until FROM bans WHERE room = ? AND member_id = ?',
      ),
      deleteEndedBans: db.prepare<[string, number]>('DELETE FROM bans WHERE room = ? AND until < ?'),
      setOwner: db.prepare<[string, string]>('UPDATE rooms SET owner = ? WHERE room = ? AND owner IS NULL'),
      roomInfo: db.prepare<[string], { owner: string | null; topic: string; moderators: string }>(
        'SELECT owner, topic, moderators FROM rooms WHERE room = ?',
      ),
      keepSeq: db.prepare<[string, number]>(
        `INSERT INTO rooms (room, last_seq, last_at) VALUES (?, ?, 0)
           ON CONFLICT (room) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
      ),
      rooms: db.prepare<[string, number], { room: string }>(
        'SELECT room FROM rooms WHERE room > ? ORDER BY room LIMIT ?',
      ),
      emptyRooms: db.prepare<{ before: number; after: string; limit: number }, { room: string }>(
        `SELECT r.room FROM rooms r WHERE r.room > @after AND ${ERASABLE} ORDER BY r.room LIMIT @limit`,
      ),
      erasable: db.prepare<{ before: number; room: string }, { room: string }>(
        `SELECT r.room FROM rooms r WHERE r.room = @room AND ${ERASABLE}`,
      ),
      deleteRoomEvents: db.prepare<[string]>('DELETE FROM events WHERE room = ?'),
      deleteRoom: db.prepare<[string]>('DELETE FROM rooms WHERE room = ?'),
      deleteRoomDirects: db.prepare<[string]>('DELETE FROM directs WHERE room = ?'),
      deleteOldDirects: db.prepare<[string, number]>('DELETE FROM directs WHERE room = ? AND at < ?'),
      keepDirect: db.prepare<[string, string, string, string, number, string]>(
        'INSERT INTO directs (room, id, from_id, to_id, at, json) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      directsOf: db.prepare<{ room: string; member: string; limit: number }, { json: string }>(
        `SELECT json FROM (
           SELECT rowid AS n, at, json FROM directs WHERE room = @room AND from_id = @member
           UNION
           SELECT rowid AS n, at, json FROM directs WHERE room = @room AND to_id = @member)
         ORDER BY at DESC, n DESC LIMIT @limit`,
      ),
      deleteOld: db.prepare<{ room: string; before: string; limit: number }>(
        `DELETE FROM events WHERE room = @room AND seq IN (
           SELECT seq FROM (SELECT seq, json FROM events WHERE room = @room ORDER BY seq LIMIT @limit)
            WHERE json_extract(json, '$.ts') < @before)`,
      ),
      byClientMsgId: db.prepare<[string, string, string], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND member_id = ? AND client_msg_id = ?',
      ),
      insert: db.prepare<[string, number, string, string, string | null, string, string | null, string | null]>(
        'INSERT INTO events (room, seq, type, member_id, client_msg_id, json, msg_id, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      joinedOf: db.prepare<[string, string], { id: string }>(
        `SELECT DISTINCT member_id AS id FROM events
          WHERE room = ? AND type = 'join' AND member_id IN (SELECT value FROM json_each(?))`,
      ),
      findMessage: db.prepare<[string, string], FoundMessage>(
        "SELECT seq, member_id AS memberId, json, state FROM events WHERE room = ? AND msg_id = ? AND type = 'message'",
      ),
      about: db.prepare<[string, string, string], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND msg_id = ? AND type = ?',
      ),
      replies: db.prepare<[string, string], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND reply_to = ?',
      ),
      rewrite: db.prepare<[string, string, number]>('UPDATE events SET json = ? WHERE room = ? AND seq = ?'),
      rewriteMessage: db.prepare<[string, string | null, string, number]>(
        'UPDATE events SET json = ?, state = ? WHERE room = ? AND seq = ?',
      ),
      newest: db.prepare<[string, number, number, number], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      oldest: db.prepare<[string, number, number, number], StoredEvent>(
        'SELECT seq, json FROM events WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?',
      ),
      roomNumber: db.prepare<[string], { n: number }>('SELECT n FROM search_rooms WHERE room = ?'),
      numberRoom: db.prepare<[string]>('INSERT INTO search_rooms (room) VALUES (?)'),
      index: db.prepare<[bigint, string]>('INSERT INTO search (rowid, words) VALUES (?, ?)'),
      unindex: db.prepare<[bigint, string]>("INSERT INTO search (search, rowid, words) VALUES ('delete', ?, ?)"),
      oldMessages: db.prepare<{ room: string; before: string; limit: number }, { seq: number; json: string }>(
        `SELECT seq, json FROM (SELECT seq, type, json FROM events WHERE room = @room ORDER BY seq LIMIT @limit)
          WHERE type = 'message' AND json_extract(json, '$.ts') < @before`,
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
    if (path === ':memory:') {
      const search = searcher(db);
      this.#searchWorker = null;
      this.#search = async (request) => search(request);
    } else {
      const worker = new SearchWorker({ path, timeoutMs: searchTimeoutMs, onError: this.#onError });
      this.#searchWorker = worker;
      this.#search = (request) => worker.search(request);
    }
    this.#appendBatch = db.transaction((inputs: AppendInput[]) => {
      const results = inputs.map((input) => this.#appendNow(input));
      // each room's row once per batch: its latest seq, and when its last event happened. Only
      // for presence events: they are what erasing an empty room goes by (a room with a message is
      // never erased), and a message, the hot path, costs no second write
      const touched = new Map<string, number>();
      for (const [i, { draft }] of inputs.entries()) {
        if ((results[i] as AppendResult).duplicate || draft.type === 'message') continue;
        touched.set(draft.room, Math.max(touched.get(draft.room) ?? 0, Date.parse(draft.ts) || 0));
      }
      for (const [room, at] of touched) this.#stmt.touchRoom.run(room, this.#latestSeq(room), at);
      for (const [i, { draft, memberId }] of inputs.entries()) {
        // the member whose join opens the log owns the room
        if (draft.type === 'join' && (results[i] as AppendResult).event.seq === 1)
          this.#stmt.setOwner.run(memberId, draft.room);
      }
      return results;
    });
    this.#amend = db.transaction((room: string, id: string, change: Change) => {
      const target = this.#stmt.findMessage.get(room, id) ?? null;
      const decided = change(target);
      if (decided === null || 'code' in decided) return decided;
      if (!target) return null; // an amendment of no message: nothing to amend
      const result = this.#appendNow(decided.event);
      if (result.duplicate) return result;
      this.#stmt.rewriteMessage.run(
        decided.message,
        decided.state === undefined ? target.state : decided.state,
        room,
        target.seq,
      );
      this.#reindex(room, target.seq, target.json, decided.message);
      if (decided.erase) {
        for (const e of this.#stmt.about.all(room, id, 'edit')) this.#stmt.rewrite.run(erasedEdit(e.json), room, e.seq);
        for (const e of this.#stmt.replies.all(room, id)) this.#stmt.rewrite.run(erasedQuote(e.json), room, e.seq);
      }
      return result;
    });
    this.#eraseOld = db.transaction((room: string, before: string, limit: number) => {
      // the seq outlives the events: the room's row holds it before they go
      this.#stmt.keepSeq.run(room, this.#latestSeq(room));
      for (const { seq, json } of this.#stmt.oldMessages.all({ room, before, limit }))
        this.#reindex(room, seq, json, '');
      return this.#stmt.deleteOld.run({ room, before, limit }).changes;
    });
    this.#eraseRoom = db.transaction((room: string, before: number) => {
      if (!this.#stmt.erasable.get({ room, before })) return false;
      this.#stmt.deleteRoomEvents.run(room);
      this.#stmt.deleteRoomDirects.run(room);
      this.#stmt.deleteEndedBans.run(room, before); // a ban outlives the room until it ends
      this.#stmt.deleteRoom.run(room);
      this.#latest.delete(room);
      return true;
    });
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`the history file has schema version ${current}, newer than this server (${MIGRATIONS.length})`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        const step = MIGRATIONS[v] as Migration;
        if (typeof step === 'string') this.#db.exec(step);
        else step(this.#db);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * The terms of the index come from the runtime's Unicode tables (src/shared/search.ts): the
   * index says which version made them ('none': this store ran without indexing). When that is not
   * this runtime's, the index is built again, so a delete always names the terms it was given.
   */
  #checkSearchTerms(searchIndex: boolean): void {
    const wanted = searchIndex ? process.versions.unicode : 'none';
    const row = this.#db
      .prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
      .get('search_terms');
    if (row?.value === wanted) return;
    this.#db.transaction(() => {
      if (row !== undefined || !searchIndex) {
        this.#db.exec("INSERT INTO search (search) VALUES ('delete-all'); DELETE FROM search_rooms;");
        if (searchIndex) indexAll(this.#db);
      }
      this.#db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run('search_terms', wanted);
    })();
  }

  #latestSeq(room: string): number {
    const cached = this.#latest.get(room);
    if (cached !== undefined) {
      this.#latest.delete(room); // to the most recently used end
      this.#latest.set(room, cached);
      return cached;
    }
    const seq = this.#stmt.lastSeq.get(room, room)?.s ?? 0;
    this.#latest.set(room, seq);
    if (this.#latest.size > this.#latestMax) this.#latest.delete(this.#latest.keys().next().value as string);
    return seq;
  }

  #appendNow(input: AppendInput): AppendResult {
    const { memberId, clientMsgId, msgId, replyTo, effect } = input;
    // a reply's answered message as it is now, inside this transaction (deleted meanwhile: empty quote)
    const { draft } = replyTo
      ? withQuoteNow(input, this.#stmt.findMessage.get(input.draft.room, replyTo) ?? null)
      : input;
    const room = draft.room;
    if (clientMsgId !== undefined) {
      const original = this.#stmt.byClientMsgId.get(room, memberId, clientMsgId);
      if (original) return { event: original, duplicate: true };
    }
    const seq = this.#latestSeq(room) + 1;
    const [head, tail] = splitAroundSeq(draft);
    const json = `${head}${seq}${tail}`;
    const about = msgId ?? (draft.type === 'message' ? draft.id : null);
    this.#stmt.insert.run(room, seq, draft.type, memberId, clientMsgId ?? null, json, about, replyTo ?? null);
    if (draft.type === 'message' && draft.text !== '' && this.#searchIndex) {
      this.#stmt.index.run(this.#searchId(room, seq, true), ftsText(draft.text));
    }
    if (effect) this.#apply(room, seq, effect);
    this.#latest.set(room, seq); // the entry #latestSeq just moved to the recent end
    return { event: { seq, json }, duplicate: false };
  }

  /**
   * The id of a message's row in the search index: its room's number times 2^32 plus its seq. The
   * room gets its number with its first indexed message (`create`); without one, -1n (no row).
   */
  #searchId(room: string, seq: number, create: boolean): bigint {
    let n = this.#roomNumbers.get(room);
    if (n === undefined) {
      const found = this.#stmt.roomNumber.get(room)?.n;
      if (found === undefined && !create) return -1n;
      n = found === undefined ? BigInt(this.#stmt.numberRoom.run(room).lastInsertRowid) : BigInt(found);
      if (this.#roomNumbers.size >= this.#latestMax)
        this.#roomNumbers.delete(this.#roomNumbers.keys().next().value as string);
    } else {
      this.#roomNumbers.delete(room); // to the most recently used end
    }
    this.#roomNumbers.set(room, n);
    return (n << 32n) | BigInt(seq);
  }

  /**
   * Index a message's current text (`after`, its JSON; '' when it is gone) in place of what it was
   * indexed under (`before`): the terms of the old text are deleted by name, so they must be the
   * ones indexed, which they are, as both come from the stored text by the same rules.
   */
  #reindex(room: string, seq: number, before: string, after: string): void {
    if (!this.#searchIndex) return;
    const [old, now] = [ftsOf(before), after === '' ? '' : ftsOf(after)];
    if (old === now) return; // a reaction: the text is unchanged
    const id = this.#searchId(room, seq, now !== '');
    if (id < 0n) return;
    if (old !== '') this.#stmt.unindex.run(id, old);
    if (now !== '') this.#stmt.index.run(id, now);
  }

  /** An event's effect on the room's row (created here if the event is the room's first). */
  #apply(room: string, seq: number, effect: RoomEffect): void {
    this.#stmt.keepSeq.run(room, seq);
    if (effect.kind === 'topic') this.#stmt.setTopic.run(effect.text, room);
    else if (effect.kind === 'ban') this.#stmt.ban.run(room, effect.member, effect.until);
    else {
      const current = this.#stmt.moderators.get(room)?.moderators ?? '[]';
      this.#stmt.setModerators.run(moderatorsAfter(current, effect), room);
    }
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
      this.#roomNumbers.clear(); // a room numbered in the failed transaction has no number
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

  async search(room: string, phrases: readonly Phrase[], { beforeSeq, limit }: SearchOptions): Promise<StoredEvent[]> {
    if (phrases.length === 0) return [];
    return this.#search({ room, query: fts5Query(phrases), beforeSeq, limit });
  }

  async latestSeq(room: string): Promise<number> {
    return this.#latestSeq(room);
  }

  async loggedMembers(room: string): Promise<LoggedMember[]> {
    return presenceFromRows(this.#stmt.presence.all(room, room));
  }

  async rooms(after: string, limit: number): Promise<string[]> {
    return this.#stmt.rooms.all(after, limit).map((r) => r.room);
  }

  async emptyRooms(before: number, after: string, limit: number): Promise<string[]> {
    return this.#stmt.emptyRooms.all({ before, after, limit }).map((r) => r.room);
  }

  async eraseEmptyRoom(room: string, before: number): Promise<boolean> {
    return this.#eraseRoom(room, before);
  }

  async joinedOf(room: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return new Set(this.#stmt.joinedOf.all(room, JSON.stringify(ids)).map((r) => r.id));
  }

  async findMessage(room: string, id: string): Promise<FoundMessage | null> {
    return this.#stmt.findMessage.get(room, id) ?? null;
  }

  /**
   * Its own transaction, not a group commit: an edit is rare next to messages. After an erasing
   * one, the write-ahead log is checkpointed and truncated: with `secure_delete` the text is then
   * in no page of the file and no frame of the log.
   */
  async amend(room: string, id: string, change: Change): Promise<AppendResult | Refusal | null> {
    let erased = false;
    let result: AppendResult | Refusal | null;
    try {
      result = this.#amend(room, id, (found) => {
        const decided = change(found);
        erased = decided !== null && !('code' in decided) && decided.erase === true;
        return decided;
      });
    } catch (err) {
      this.#latest.clear(); // the transaction wrote nothing: the cached seqs may be ahead
      this.#roomNumbers.clear();
      throw err;
    }
    if (erased) this.#checkpointSoon();
    return result;
  }

  /**
   * Checkpoint and truncate the write-ahead log once the current turn's deletes are done (one for
   * all of them), so the old frames holding an erased text are gone from the disk too.
   */
  #checkpointSoon(): void {
    if (this.#checkpointDue) return;
    this.#checkpointDue = true;
    setImmediate(() => {
      this.#checkpointDue = false;
      if (!this.#db.open) return;
      try {
        const [status] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        if (status?.busy)
          this.#onError(new Error('the write-ahead log is busy: erased text stays in it until the next checkpoint'));
      } catch (err) {
        this.#onError(err);
      }
    });
  }

  async bannedUntil(room: string, memberId: string): Promise<number> {
    return this.#stmt.bannedUntil.get(room, memberId)?.until ?? 0;
  }

  async roomInfo(room: string): Promise<RoomInfo> {
    const row = this.#stmt.roomInfo.get(room);
    return roomInfoOf(row?.owner ?? null, row?.topic ?? '', row?.moderators ?? '[]');
  }

  async keepDirect({ room, id, fromId, toId, at, json }: KeptDirect): Promise<void> {
    this.#stmt.keepDirect.run(room, id, fromId, toId, at, json);
  }

  async directsOf(room: string, memberId: string, limit: number): Promise<string[]> {
    return this.#stmt.directsOf
      .all({ room, member: memberId, limit })
      .map((r) => r.json)
      .reverse();
  }

  async eraseOldEvents(room: string, before: number, limit: number): Promise<number> {
    this.#stmt.deleteOldDirects.run(room, before);
    return this.#eraseOld(room, new Date(before).toISOString(), limit);
  }

  get cachedRooms(): number {
    return this.#latest.size;
  }

  async secret(candidate: string): Promise<string> {
    this.#stmt.insertSetting.run('server_secret', candidate);
    return (this.#stmt.setting.get('server_secret') as { value: string }).value;
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.#searchWorker?.close();
    if (this.#db.open) this.#db.close();
  }
}
