/**
 * The store, bus, presence and rate limit the chat runs on: embedded (SQLite file, in-process bus,
 * presence and limits in this process) or, with REDIS_URL and DATABASE_URL, cluster (PostgreSQL,
 * Redis pub/sub, presence and limits shared through Redis).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { RedisConnectionCap } from './chat/address/redis.js';
import { MemoryBus } from './chat/bus/memory.js';
import type { MessageBus } from './chat/bus/message-bus.js';
import { RedisBus } from './chat/bus/redis.js';
import { addressRate, type ChatServiceOptions, joinRate, TYPING_PER_SEC } from './chat/chat-service.js';
import { type Clock, systemClock } from './chat/clock.js';
import { instancesKey, RedisPresence } from './chat/presence/redis.js';
import { MemoryRateLimiter } from './chat/rate-limit/memory.js';
import type { RateLimit } from './chat/rate-limit/rate-limit.js';
import { RedisRateLimiter } from './chat/rate-limit/redis.js';
import type { HistoryStore } from './chat/store/history-store.js';
import { PostgresStore } from './chat/store/postgres.js';
import { SqliteStore } from './chat/store/sqlite.js';
import type { ChatObserver } from './chat/types.js';
import type { Config } from './config.js';
import { DiskFileStore } from './files/disk.js';
import type { FileStore } from './files/file-store.js';
import { PostgresFileStore } from './files/postgres.js';

export interface BackendLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface Backends {
  mode: 'embedded' | 'cluster';
  store: HistoryStore;
  files: FileStore;
  bus: MessageBus;
  presence?: ChatServiceOptions['presence'];
  limiter?: ChatServiceOptions['limiter'];
  typingLimiter?: ChatServiceOptions['typingLimiter'];
  connectionCap?: ChatServiceOptions['connectionCap'];
  joinLimiter?: ChatServiceOptions['joinLimiter'];
  addressLimiter?: ChatServiceOptions['addressLimiter'];
  /** Close what the store and bus do not own (Redis connections), after them. */
  close(): Promise<void>;
}

export interface BackendOverrides {
  store?: HistoryStore;
  bus?: MessageBus;
  /** Embedded mode's file store (tests: one that is slow to erase). */
  files?: FileStore;
}

export async function openBackends(
  config: Config,
  log: BackendLogger,
  overrides: BackendOverrides = {},
  clock: Clock = systemClock,
  observer: ChatObserver = {},
): Promise<Backends> {
  if (!config.redisUrl || !config.databaseUrl) {
    return {
      mode: 'embedded',
      store:
        overrides.store ??
        new SqliteStore({
          path: config.sqlitePath,
          durability: config.sqliteSync,
          searchTimeoutMs: config.searchTimeoutMs,
          onError: (err) => log.warn({ err }, 'checkpointing the history file after a delete failed'),
        }),
      bus: overrides.bus ?? new MemoryBus(),
      files: overrides.files ?? (await DiskFileStore.open(config.filesDir)),
      close: async () => {},
    };
  }
  const store =
    overrides.store ??
    (await PostgresStore.open({
      connectionString: config.databaseUrl,
      searchTimeoutMs: config.searchTimeoutMs,
      onError: (err) => log.warn({ err }, 'postgres connection lost; the pool reconnects'),
    }));
  // commands fail at once while Redis is down (callers fall back); subscriptions wait for it
  const publisher = connectRedis(config.redisUrl, 'commands', log, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  const subscriber = connectRedis(config.redisUrl, 'subscriber', log, {});
  await Promise.all([waitReady(publisher, 5000), waitReady(subscriber, 5000)]);
  const bus = overrides.bus ?? new RedisBus({ publisher, subscriber, prefix: config.redisPrefix });
  // one line per outage, not one per message: armed again when the connection is back
  let limiterFailing = false;
  let presenceFailing = false;
  publisher.on('ready', () => {
    limiterFailing = false;
    presenceFailing = false;
  });
  const limitFailed = (err: unknown) => {
    observer.failure?.('rate_limit');
    if (limiterFailing) return;
    limiterFailing = true;
    log.warn({ err }, "redis rate limit failed; using this instance's buckets");
  };
  const shared = (what: string, rate: { perSec: number; burst: number }) =>
    new RedisRateLimiter({
      redis: publisher,
      prefix: `${config.redisPrefix}${what}`,
      ...rate,
      clock,
      onError: limitFailed,
    });
  const filesPool = new pg.Pool({ connectionString: config.databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
  filesPool.on('error', (err) => log.warn({ err }, 'postgres connection of the file store lost; the pool reconnects'));
  return {
    mode: 'cluster',
    store,
    bus,
    files: new PostgresFileStore(filesPool),
    presence: (onLeave) =>
      new RedisPresence({
        redis: publisher,
        instanceId: bus.instanceId,
        prefix: config.redisPrefix,
        leaveGraceMs: config.leaveGraceMs,
        presenceTtlMs: config.presenceTtlMs,
        clock,
        onLeave,
        onError: (err, context) => {
          observer.failure?.('presence');
          if (presenceFailing) return;
          presenceFailing = true;
          log.warn({ err, ...context }, "redis presence failed; using this instance's view");
        },
      }),
    typingLimiter: localFirst(
      new MemoryRateLimiter({ perSec: TYPING_PER_SEC, burst: 1, clock }),
      new RedisRateLimiter({
        redis: publisher,
        prefix: `${config.redisPrefix}typing:`,
        perSec: TYPING_PER_SEC,
        burst: 1,
        clock,
        onError: () => observer.failure?.('rate_limit'),
      }),
    ),
    limiter: shared('', { perSec: config.rateLimitPerSec, burst: config.rateLimitBurst }),
    joinLimiter: shared('joins:', joinRate(config.joinsPerIpPerMin, clock)),
    addressLimiter: shared('address:', addressRate(config.rateLimitPerIpPerSec, clock)),
    connectionCap: new RedisConnectionCap({
      redis: publisher,
      instanceId: bus.instanceId,
      instancesKey: instancesKey(config.redisPrefix),
      prefix: config.redisPrefix,
      max: config.maxConnectionsPerIp,
      clock,
      onError: limitFailed,
    }),
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit(), filesPool.end()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * A limit checked on this instance first, and in Redis only when this instance allows it: a flood
 * of typing frames costs Redis no more than one script call a second per member and instance.
 */
function localFirst(local: RateLimit, shared: RateLimit): RateLimit {
  return {
    take: async (key) => (await local.take(key)) && shared.take(key),
    forget(key) {
      local.forget(key);
      shared.forget(key);
    },
  };
}

function connectRedis(
  url: string,
  role: string,
  log: BackendLogger,
  options: { enableOfflineQueue?: boolean; maxRetriesPerRequest?: number },
): Redis {
  const redis = new Redis(url, { ...options, connectionName: `roomchat-${role}` });
  // one line per outage, not one per retry
  let down = false;
  redis.on('error', (err) => {
    if (down) return;
    down = true;
    log.warn({ err, role }, 'redis unreachable; retrying');
  });
  redis.on('ready', () => {
    if (down) log.info({ role }, 'redis reachable again');
    down = false;
  });
  return redis;
}

/** Wait for a connection to be ready, at most `ms`; start anyway after that (readyz says 503). */
function waitReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
