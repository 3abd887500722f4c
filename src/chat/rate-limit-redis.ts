/**
 * The rate limit shared by every instance: one token bucket per member in Redis, taken in a
 * script with Redis's clock. While Redis is down, each instance falls back to its own buckets.
 */
import type { Redis } from 'ioredis';
import type { RateLimit } from './rate-limit.js';

/** KEYS: bucket. ARGV: perSec, burst. */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local ok = 0
if tokens >= 1 then tokens = tokens - 1 ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok`;

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** @default 'roomchat:' */
  prefix?: string;
  perSec: number;
  burst: number;
  /** Used while Redis does not answer. */
  fallback: RateLimit;
}

export class RedisRateLimiter implements RateLimit {
  readonly #opts: RedisRateLimiterOptions;
  readonly #take: (key: string) => Promise<unknown>;

  constructor(options: RedisRateLimiterOptions) {
    this.#opts = options;
    const prefix = `${options.prefix ?? 'roomchat:'}rate:`;
    options.redis.defineCommand('roomchat_take', { numberOfKeys: 1, lua: TAKE });
    const redis = options.redis as unknown as { roomchat_take(...args: Array<string | number>): Promise<unknown> };
    this.#take = (key) => redis.roomchat_take(prefix + key, options.perSec, options.burst);
  }

  async take(key: string): Promise<boolean> {
    try {
      return (await this.#take(key)) === 1;
    } catch {
      return this.#opts.fallback.take(key);
    }
  }

  /** Buckets expire in Redis by themselves. */
  forget(key: string): void {
    this.#opts.fallback.forget(key);
  }
}
