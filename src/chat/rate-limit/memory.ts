/** Buckets in this process: enough for one instance, and the stand-in while Redis fails. */
import { type Clock, systemClock } from '../clock.js';
import type { RateLimit, RateLimitOptions } from './rate-limit.js';

interface Bucket {
  tokens: number;
  /** The clock reading when `tokens` was counted. */
  at: number;
}

/** Buckets kept before the first sweep of full ones. */
const SWEEP_FROM = 1024;

export class MemoryRateLimiter implements RateLimit {
  readonly #buckets = new Map<string, Bucket>();
  /** Bucket count at which full buckets are dropped (twice what was left after the last sweep). */
  #sweepAt = SWEEP_FROM;
  readonly #perSec: number;
  readonly #burst: number;
  readonly #clock: Clock;

  constructor({ perSec, burst, clock = systemClock }: RateLimitOptions) {
    this.#perSec = perSec;
    this.#burst = burst;
    this.#clock = clock;
  }

  take(key: string): boolean {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.#dropFull(now);
      this.#buckets.set(key, { tokens: this.#burst - 1, at: now });
      return true;
    }
    // the system clock can be stepped back; that must not hand out tokens
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsed * this.#perSec) / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** A fresh bucket is full, so nothing is lost by dropping it. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  /** Buckets kept (keys not forgotten, or not yet found full again). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Drop every bucket that has refilled: keys nobody forgets (client addresses) cost memory only
   * while they are in use. Run when the count doubles, so its cost per take stays constant.
   */
  #dropFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (Math.max(0, now - bucket.at) * this.#perSec) / 1000 >= this.#burst)
        this.#buckets.delete(key);
    }
    this.#sweepAt = Math.max(SWEEP_FROM, 2 * this.#buckets.size);
  }
}
