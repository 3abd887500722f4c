/**
 * Gives back the memory a burst of connections leaves behind. Each WebSocket handshake makes
 * garbage (the HTTP request and response, headers, buffers) that V8 keeps in a heap grown to hold
 * it; a server that then sits idle with its connections runs no collection that would shrink it,
 * so its resident memory stays about twice what the connections hold (`npm run bench`, idle).
 * Once at least `burst` connections have opened and none has for `quietMs`, the collection runs
 * (`fullCollection`): a pause of about 0.3 s with 10,000 connections here, at a quiet moment, once
 * per burst, logged with its length.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Clock, Timer } from './chat/clock.js';

export interface ReclaimerOptions {
  clock: Clock;
  /** A full garbage collection (`fullCollection()`). */
  collect(): void;
  /** Connections opened since the last collection that make one worth its pause. @default 1000 */
  burst?: number;
  /** How long no connection may open before the collection runs (ms). @default 10000 */
  quietMs?: number;
  /** A collection ran, for the log: how long it took and what it gave back. */
  onCollected?(report: { ms: number; rssBeforeBytes: number; rssAfterBytes: number }): void;
}

export class MemoryReclaimer {
  readonly #opts: Required<Omit<ReclaimerOptions, 'onCollected'>> & Pick<ReclaimerOptions, 'onCollected'>;
  #opened = 0;
  #lastOpenedAt = 0;
  #timer: Timer | null = null;

  constructor(options: ReclaimerOptions) {
    this.#opts = { burst: 1000, quietMs: 10_000, ...options };
  }

  /** A connection opened. */
  opened(): void {
    this.#opened++;
    this.#lastOpenedAt = this.#opts.clock.now();
    if (this.#opened >= this.#opts.burst && !this.#timer) this.#arm(this.#opts.quietMs);
  }

  #arm(ms: number): void {
    this.#timer = this.#opts.clock.after(ms, () => {
      this.#timer = null;
      const quietFor = this.#opts.clock.now() - this.#lastOpenedAt;
      // one timer for the whole burst: while connections keep opening it only moves on
      if (quietFor < this.#opts.quietMs) return this.#arm(this.#opts.quietMs - quietFor);
      this.#opened = 0;
      const rssBeforeBytes = process.memoryUsage.rss();
      const start = performance.now();
      this.#opts.collect();
      this.#opts.onCollected?.({
        ms: performance.now() - start,
        rssBeforeBytes,
        rssAfterBytes: process.memoryUsage.rss(),
      });
    });
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}

/**
 * Two full collections of V8, back to back. `--expose-gc`, set while running, gives a context made
 * afterwards its `gc` function; the process's own global stays as it was. The first frees the
 * handshakes' garbage but leaves most of its pages mapped; the second gives them back. With
 * 10,000 idle connections here (`npm run bench -- idle`, RSS per connection 30 s after the last
 * join): one collection 5.02–5.09 KiB, two 3.29–3.37 KiB in four runs; a full and then a young
 * collection 3.17–7.75 KiB. The pause is about 0.14 s per collection at 10,000 connections.
 * @see https://nodejs.org/api/v8.html#v8setflagsfromstringflags
 */
export function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}
