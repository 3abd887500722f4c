/**
 * Token buckets, one per key (a member in a room): `burst` tokens, refilled at `perSec`.
 * `RateLimiter` counts in this process; `RedisRateLimiter` shares the buckets between instances.
 */

/** What the chat service needs of a rate limiter. */
export interface RateLimit {
  /** Take one token for `key`; false when its bucket is empty. */
  take(key: string): boolean | Promise<boolean>;
  /** Forget a key (its member left). */
  forget(key: string): void;
}

export interface RateLimitOptions {
  /** Tokens added per second. @default 10 */
  perSec: number;
  /** Bucket size, the largest burst. @default 20 */
  burst: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter implements RateLimit {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor({ perSec, burst, now = () => performance.now() }: RateLimitOptions) {
    this.#perMs = perSec / 1000;
    this.#burst = burst;
    this.#now = now;
  }

  /** Take one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    if (!bucket) {
      this.#buckets.set(key, { tokens: this.#burst - 1, at: now });
      return true;
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forget a key (its member left): a fresh bucket is full anyway. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }
}
