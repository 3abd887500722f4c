/** Buckets in Redis, so a member's limit holds whichever instance their sockets reach. */
import type { Redis } from 'ioredis';
import { systemClock } from '../clock.js';
import { LUA_TIME, scriptTime } from '../redis-time.js';
import { MemoryRateLimiter } from './memory.js';
import type { RateLimit, RateLimitOptions } from './rate-limit.js';

/**
 * KEYS: bucket. ARGV: time (ms, or '' for Redis's clock: see redis-time.ts), perSec, burst. The key
 * expires a second after the bucket would be full again: by then it is no different from a missing one.
 * %.17g keeps every digit (tostring keeps 14).
 */
const TAKE = `${LUA_TIME}
local now, rate, burst = time(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local ok = 0
if tokens >= 1 then tokens = tokens - 1 ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return ok`;

export interface RedisRateLimiterOptions extends RateLimitOptions {
  /** A connection for commands; with `enableOfflineQueue: false` a take fails fast while Redis is down. */
  redis: Redis;
  /** Prefix of every key. @default 'roomchat:' */
  prefix?: string;
  /** Used while Redis fails. @default a MemoryRateLimiter with the same perSec, burst and clock */
  fallback?: RateLimit;
  /** Called with each Redis failure, before falling back, so the caller can log and count it. */
  onError?(err: unknown): void;
}

/** Shares buckets between instances on Redis's clock; see TAKE. */
export class RedisRateLimiter implements RateLimit {
  readonly #fallback: RateLimit;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #take: (key: string) => Promise<unknown>;

  constructor(options: RedisRateLimiterOptions) {
    const { redis, perSec, burst, clock = systemClock } = options;
    this.#fallback = options.fallback ?? new MemoryRateLimiter({ perSec, burst, clock });
    this.#onError = options.onError;
    const prefix = `${options.prefix ?? 'roomchat:'}rate:`;
    redis.defineCommand('roomchat_take', { numberOfKeys: 1, lua: TAKE });
    const commands = redis as unknown as { roomchat_take(...args: Array<string | number>): Promise<unknown> };
    this.#take = (key) => commands.roomchat_take(prefix + key, scriptTime(clock), perSec, burst);
  }

  async take(key: string): Promise<boolean> {
    try {
      return (await this.#take(key)) === 1;
    } catch (err) {
      this.#onError?.(err);
      return this.#fallback.take(key);
    }
  }

  /** Only the fallback's bucket: the shared one may still be in use through another instance. */
  forget(key: string): void {
    this.#fallback.forget(key);
  }
}
