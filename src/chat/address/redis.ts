/**
 * Connections per address counted in Redis, so the cap holds however many instances a client's
 * sockets reach. Each address has a hash, instance id → its connections from that address; an
 * instance whose presence heartbeat expired (see presence/redis.ts) no longer counts, and its field
 * is dropped by the next acquire. While Redis fails, this instance's own count is the one checked.
 */
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../clock.js';
import { LUA_TIME, scriptTime } from '../redis-time.js';
import { type ConnectionCap, LocalCounts } from './connection-cap.js';

/**
 * KEYS: counts, instances (id → heartbeat expiry ms). ARGV: instance, max, time, ttl ms, the
 * connections this instance already has from the address. Returns 1 when counted. Each instance
 * writes its own count (not an increment), so a write that failed is put right by the next one.
 * The key expires a day after its last acquire, should every instance die.
 */
const ACQUIRE = `${LUA_TIME}
local now, own = time(ARGV[3]), tonumber(ARGV[5])
local total = own
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local id = all[i]
  if id ~= ARGV[1] then
    local expiry = tonumber(redis.call('ZSCORE', KEYS[2], id))
    if expiry == nil or expiry < now then redis.call('HDEL', KEYS[1], id)
    else total = total + tonumber(all[i + 1]) end
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], own + 1)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1`;

/** KEYS: counts. ARGV: instance, its connections from the address now. */
const RELEASE = `
if tonumber(ARGV[2]) > 0 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

const KEY_TTL_MS = 24 * 3600 * 1000;

export interface RedisConnectionCapOptions {
  /** A connection for commands (`enableOfflineQueue: false`, so a failure is fast). */
  redis: Redis;
  /** This instance, as the presence heartbeat names it. */
  instanceId: string;
  /** The sorted set of live instances (id → heartbeat expiry), kept by the Redis presence. */
  instancesKey: string;
  /** @default 'roomchat:' */
  prefix?: string;
  max: number;
  /** @default systemClock */
  clock?: Clock;
  /** Each Redis failure, before this instance's own count decides. */
  onError?(err: unknown): void;
}

interface CapCommands {
  roomchat_conn_acquire(...args: Array<string | number>): Promise<number>;
  roomchat_conn_release(...args: Array<string | number>): Promise<number>;
}

export class RedisConnectionCap implements ConnectionCap {
  readonly #opts: RedisConnectionCapOptions;
  readonly #clock: Clock;
  readonly #prefix: string;
  /** The connections open on this instance, per address: what its field in Redis says. */
  readonly #local = new LocalCounts();
  readonly #commands: CapCommands;

  constructor(options: RedisConnectionCapOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#prefix = `${options.prefix ?? 'roomchat:'}conns:`;
    options.redis.defineCommand('roomchat_conn_acquire', { numberOfKeys: 2, lua: ACQUIRE });
    options.redis.defineCommand('roomchat_conn_release', { numberOfKeys: 1, lua: RELEASE });
    this.#commands = options.redis as unknown as CapCommands;
  }

  async acquire(address: string): Promise<boolean> {
    const { instanceId, instancesKey, max } = this.#opts;
    // counted at once, so parallel handshakes from one address each see the ones before them
    const before = this.#local.get(address);
    this.#local.add(address);
    let counted: boolean;
    try {
      const key = this.#prefix + address;
      const time = scriptTime(this.#clock);
      counted =
        (await this.#commands.roomchat_conn_acquire(key, instancesKey, instanceId, max, time, KEY_TTL_MS, before)) ===
        1;
    } catch (err) {
      this.#opts.onError?.(err);
      counted = before < max;
    }
    if (!counted) this.#local.remove(address);
    return counted;
  }

  release(address: string): void {
    if (!this.#local.remove(address)) return;
    const { instanceId } = this.#opts;
    this.#commands
      .roomchat_conn_release(this.#prefix + address, instanceId, this.#local.get(address))
      .catch((err: unknown) => {
        // the field stays one too high until this instance's next acquire or release for the address
        this.#opts.onError?.(err);
      });
  }

  get addresses(): number {
    return this.#local.size;
  }
}
