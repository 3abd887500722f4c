/**
 * Search of the SQLite store, off the event loop. A search runs in a worker thread with its own
 * read-only connection (WAL lets it read while the server writes), one query at a time, so however
 * costly a query is, the chat's event loop never waits for it. A query that runs past its time is
 * stopped by ending the worker (searches are refused until it is gone, then a new one starts); a
 * full queue refuses at once.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { SearchUnavailable, type StoredEvent } from './history-store.js';

/** One search, as its words are asked of FTS5 (src/shared/search.ts, fts5Query). */
export interface SearchRequest {
  room: string;
  query: string;
  beforeSeq?: number;
  limit: number;
}

/** The search queries on a connection to the history file (the worker's, or the store's own). */
export function searcher(db: Database.Database): (request: SearchRequest) => StoredEvent[] {
  const roomNumber = db.prepare<[string], { n: number }>('SELECT n FROM search_rooms WHERE room = ?');
  // a room's rows are one range of ids (its number times 2^32 plus the seq): newest first
  const match = db.prepare<[string, bigint, bigint, number], { seq: number }>(
    'SELECT rowid & 4294967295 AS seq FROM search WHERE search MATCH ? AND rowid >= ? AND rowid < ? ORDER BY rowid DESC LIMIT ?',
  );
  const eventAt = db.prepare<[string, number], StoredEvent>(
    "SELECT seq, json FROM events WHERE room = ? AND seq = ? AND type = 'message'",
  );
  return ({ room, query, beforeSeq, limit }) => {
    const n = roomNumber.get(room)?.n;
    if (n === undefined) return [];
    const first = BigInt(n) << 32n;
    const end = first + BigInt(Math.min(beforeSeq ?? 2 ** 32, 2 ** 32));
    const found: StoredEvent[] = [];
    for (const { seq } of match.all(query, first, end, limit)) {
      const event = eventAt.get(room, seq);
      // the index never holds a deleted message; were it ever out of step, a result still is not one
      if (event && !(JSON.parse(event.json) as { deleted?: true }).deleted) found.push(event);
    }
    return found;
  };
}

interface Queued {
  id: number;
  request: SearchRequest;
  resolve(events: StoredEvent[]): void;
  reject(err: Error): void;
}

type Reply = { ready: true } | { id: number; events: StoredEvent[] } | { id: number; error: string };

export interface SearchWorkerOptions {
  /** The history file. */
  path: string;
  /** How long one query may run (ms). */
  timeoutMs: number;
  /** Searches waiting or running at most; more are refused. @default 32 */
  maxQueued?: number;
  /** A failure of the worker itself (not of one query), to be logged. */
  onError(err: unknown): void;
}

export class SearchWorker {
  readonly #options: Required<SearchWorkerOptions>;
  #worker: Worker | null = null;
  /** In the order sent; the worker answers in that order, so the first is the one running. */
  #queue: Queued[] = [];
  #nextId = 0;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** A stopped worker may still be inside a query (native code cannot be interrupted): no new one until it is gone. */
  #stopping: Promise<unknown> | null = null;
  /** The worker has opened the file: queries are timed from then on, not its start. */
  #ready = false;
  #closed = false;

  constructor(options: SearchWorkerOptions) {
    this.#options = { maxQueued: 32, ...options };
  }

  search(request: SearchRequest): Promise<StoredEvent[]> {
    if (this.#closed) return Promise.reject(new SearchUnavailable('the store is closed'));
    if (this.#stopping !== null) {
      return Promise.reject(new SearchUnavailable('search is restarting after a search that took too long: try again'));
    }
    if (this.#queue.length >= this.#options.maxQueued) {
      return Promise.reject(new SearchUnavailable('too many searches at once: try again in a moment'));
    }
    return new Promise((resolve, reject) => {
      const queued = { id: ++this.#nextId, request, resolve, reject };
      this.#queue.push(queued);
      this.#send(queued);
      if (this.#queue.length === 1) this.#arm();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#watchdog);
    for (const q of this.#queue.splice(0)) q.reject(new SearchUnavailable('the store is closed'));
    await this.#worker?.terminate();
    this.#worker = null;
  }

  #send(queued: Queued): void {
    this.#worker ??= this.#start();
    this.#worker.ref(); // a search is waiting for it
    this.#worker.postMessage({ id: queued.id, ...queued.request });
  }

  #start(): Worker {
    const workerData = { path: this.#options.path };
    const worker = import.meta.url.endsWith('.ts')
      ? // run from src/ through tsx (tests, `npm run dev`): the worker registers tsx first
        new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
             .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./sqlite-search-worker.ts', import.meta.url).href)}); })`,
          { eval: true, workerData },
        )
      : new Worker(new URL('./sqlite-search-worker.js', import.meta.url), { workerData });
    // a worker that was stopped may still say something: only the current one is listened to
    worker.on('message', (reply: Reply) => {
      if (worker === this.#worker) this.#answered(reply);
    });
    worker.on('error', (err) => {
      this.#options.onError(err);
      if (worker === this.#worker) this.#restart(new SearchUnavailable('search failed: try again'));
    });
    worker.on('exit', (code) => {
      if (worker !== this.#worker || this.#closed) return;
      this.#options.onError(new Error(`the search worker exited (code ${code})`));
      this.#restart(new SearchUnavailable('search failed: try again'));
    });
    worker.unref(); // after the listeners, which ref it: only a search waiting for it keeps the process alive
    return worker;
  }

  #answered(reply: Reply): void {
    if ('ready' in reply) {
      this.#ready = true;
      if (this.#queue.length > 0) this.#arm();
      return;
    }
    const head = this.#queue[0];
    if (!head || head.id !== reply.id) return;
    this.#queue.shift();
    clearTimeout(this.#watchdog);
    if ('error' in reply) head.reject(new Error(reply.error));
    else head.resolve(reply.events);
    if (this.#queue.length > 0) this.#arm();
    else this.#worker?.unref();
  }

  /** Time the query now running (once the worker is ready). */
  #arm(): void {
    clearTimeout(this.#watchdog);
    if (!this.#ready) return;
    this.#watchdog = setTimeout(() => {
      this.#restart(new SearchUnavailable(`the search took longer than ${this.#options.timeoutMs} ms and was stopped`));
    }, this.#options.timeoutMs);
    this.#watchdog.unref();
  }

  /**
   * Stop the worker: every search waiting fails with `err` (try again), and no new worker starts
   * until this one is gone, so queries that cannot be interrupted never pile up in threads.
   */
  #restart(err: Error): void {
    clearTimeout(this.#watchdog);
    const worker = this.#worker;
    this.#worker = null;
    this.#ready = false;
    for (const q of this.#queue.splice(0)) q.reject(err);
    if (!worker) return;
    const stopping = worker.terminate().catch((e: unknown) => this.#options.onError(e));
    this.#stopping = stopping;
    void stopping.then(() => {
      if (this.#stopping === stopping) this.#stopping = null;
    });
  }
}
