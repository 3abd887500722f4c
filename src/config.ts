/**
 * Configuration: one TypeBox schema for every environment variable, validated once at start.
 * The only module that reads `process.env`.
 * @see https://github.com/fastify/env-schema
 */
import { resolve } from 'node:path';
import { envSchema } from 'env-schema';
import { type Static, Type } from 'typebox';

const Millis = (def: number, description: string) => Type.Integer({ minimum: 1, default: def, description });

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port' }),
  HOST: Type.String({ default: '0.0.0.0', description: 'address to listen on' }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'pino log level' },
  ),
  SQLITE_PATH: Type.String({ minLength: 1, default: './data/roomchat.db', description: 'history file' }),
  SQLITE_SYNC: Type.Union([Type.Literal('full'), Type.Literal('normal')], {
    default: 'full',
    description: 'full: commits survive power loss; normal: they survive a process crash',
  }),
  SERVER_SECRET: Type.Optional(
    Type.String({ minLength: 16, description: 'key for member ids; generated once into the store when unset' }),
  ),
  ALLOWED_ORIGINS: Type.String({ default: '', description: 'comma-separated origins allowed besides our own' }),
  LEAVE_GRACE_MS: Millis(5000, 'how long a member may be gone before its leave is logged'),
  PING_INTERVAL_MS: Millis(30000, 'WebSocket ping interval; two missed pongs terminate'),
  PRESENCE_TTL_MS: Millis(15000, 'expiry of a cluster instance presence entry'),
  MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1048576, description: 'unsent backlog before 1013' }),
  MAX_FRAME_BYTES: Type.Integer({ minimum: 1024, default: 65536, description: 'largest accepted frame payload' }),
  RATE_LIMIT_PER_SEC: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'messages per second per member' }),
  RATE_LIMIT_BURST: Type.Integer({ minimum: 1, default: 20, description: 'token bucket size per member' }),
  SHUTDOWN_TIMEOUT_MS: Millis(10000, 'exit anyway when shutdown takes longer'),
  REDIS_URL: Type.Optional(Type.String({ minLength: 1, description: 'cluster mode: Redis bus' })),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1, description: 'cluster mode: PostgreSQL store' })),
  REDIS_PREFIX: Type.String({ default: 'roomchat:', description: 'prefix of every Redis key and channel' }),
});
export type Env = Static<typeof EnvSchema>;

/** The validated configuration every module receives; nothing else reads the environment. */
export interface Config {
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  sqlitePath: string;
  /** How far a commit goes before it is acknowledged: `full` survives power loss, `normal` a crash. */
  sqliteSync: 'full' | 'normal';
  /** Key of the member-id hash; unset: the store's, generated once. */
  serverSecret?: string;
  allowedOrigins: string[];
  leaveGraceMs: number;
  pingIntervalMs: number;
  presenceTtlMs: number;
  maxBufferedBytes: number;
  maxFrameBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  shutdownTimeoutMs: number;
  redisUrl?: string;
  databaseUrl?: string;
  redisPrefix: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validate an environment (default `process.env`) and derive the Config; throws ConfigError naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  let env: Env;
  try {
    env = envSchema<Env>({ schema: EnvSchema, data: { ...source }, dotenv: false });
  } catch (err) {
    // ajv says e.g. "env/PORT must be <= 65535": keep the variable name, drop the prefix.
    const detail = (err as Error).message.replace(/env\//g, '');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  if ((env.REDIS_URL === undefined) !== (env.DATABASE_URL === undefined)) {
    throw new ConfigError('invalid configuration: cluster mode needs both REDIS_URL and DATABASE_URL (or neither)');
  }
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    sqlitePath: resolve(env.SQLITE_PATH),
    sqliteSync: env.SQLITE_SYNC,
    serverSecret: env.SERVER_SECRET,
    allowedOrigins: env.ALLOWED_ORIGINS.split(/[\s,]+/).filter(Boolean),
    leaveGraceMs: env.LEAVE_GRACE_MS,
    pingIntervalMs: env.PING_INTERVAL_MS,
    presenceTtlMs: env.PRESENCE_TTL_MS,
    maxBufferedBytes: env.MAX_BUFFERED_BYTES,
    maxFrameBytes: env.MAX_FRAME_BYTES,
    rateLimitPerSec: env.RATE_LIMIT_PER_SEC,
    rateLimitBurst: env.RATE_LIMIT_BURST,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    redisUrl: env.REDIS_URL,
    databaseUrl: env.DATABASE_URL,
    redisPrefix: env.REDIS_PREFIX,
  };
}
