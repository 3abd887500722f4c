/** A member gets a burst, then a steady rate; test/rate-limit.contract.ts holds every limiter to it. */
import type { Clock } from '../clock.js';

/** What the chat service needs of a rate limiter. Keys are a member in a room. */
export interface RateLimit {
  /**
   * Take one token for `key`; false when its bucket is empty. A new key starts with a full
   * bucket of `burst`; it refills at `perSec`, never past `burst`. A clock that goes backwards
   * adds no tokens: refill resumes from its new reading.
   */
  take(key: string): boolean | Promise<boolean>;
  /**
   * The key's member left: drop what this instance keeps for it, so it may start again with a full
   * bucket. Shared buckets (`RedisRateLimiter`) are not dropped, since the member may still be
   * connected through another instance; they expire once they would be full anyway.
   */
  forget(key: string): void;
}

export interface RateLimitOptions {
  /** Tokens added per second, > 0; may be fractional. */
  perSec: number;
  /** Bucket size, the largest burst, >= 1. */
  burst: number;
  /** The time refills are counted in. @default systemClock */
  clock?: Clock;
}
