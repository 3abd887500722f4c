/** The search worker of the SQLite store (sqlite-search.ts): one read-only connection, one query at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type SearchRequest, searcher } from './sqlite-search.js';

const db = new Database((workerData as { path: string }).path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const search = searcher(db);
parentPort?.postMessage({ ready: true });

parentPort?.on('message', ({ id, ...request }: SearchRequest & { id: number }) => {
  try {
    parentPort?.postMessage({ id, events: search(request) });
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
