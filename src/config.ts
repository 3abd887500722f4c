/**
 * Configuration: one TypeBox schema for every environment variable, validated once at start.
 * The only module that reads `process.env`.
 * @see https://github.com/fastify/env-schema
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { envSchema } from 'env-schema';
import { type Static, Type } from 'typebox';

const Millis = (def: number, description: string) => Type.Integer({ minimum: 1, default: def, description });

/**
 * Every setting, in the form the modules receive it. Each is read from the environment variable
 * of its name in upper snake case (`leaveGraceMs` ← `LEAVE_GRACE_MS`); a list is comma-separated.
 */
export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port' }),
  host: Type.String({ default: '0.0.0.0', description: 'address to listen on' }),
  logLevel: Type.Union(
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
  logFormat: Type.Union([Type.Literal('auto'), Type.Literal('pretty'), Type.Literal('json')], {
    default: 'auto',
    description: 'pretty: one readable line per entry; json: one JSON object per line; auto: pretty on a terminal',
  }),
  sqlitePath: Type.String({ minLength: 1, default: './data/roomchat.db', description: 'history file' }),
  sqliteSync: Type.Union([Type.Literal('full'), Type.Literal('normal')], {
    default: 'full',
    description: 'full: commits survive power loss; normal: they survive a process crash',
  }),
  serverSecret: Type.Optional(
    Type.String({ minLength: 16, description: 'key for member ids; generated once into the store when unset' }),
  ),
  publicUrl: Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#]+/?$',
      description: 'the address people open (https://chat.example.com); only its Host is answered',
    }),
  ),
  allowedOrigins: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'comma-separated origins allowed besides our own',
  }),
  leaveGraceMs: Millis(5000, 'how long a member may be gone before its leave is logged'),
  pingIntervalMs: Millis(30000, 'WebSocket ping interval; two missed pongs terminate'),
  presenceTtlMs: Millis(15000, 'expiry of a cluster instance presence entry'),
  maxBufferedBytes: Type.Integer({ minimum: 1024, default: 1048576, description: 'unsent backlog before 1013' }),
  welcomeMaxBytes: Type.Integer({
    minimum: 65536,
    default: 524288,
    description: 'largest history a welcome carries, serialized; the newest events that fit',
  }),
  maxFrameBytes: Type.Integer({ minimum: 1024, default: 65536, description: 'largest accepted frame payload' }),
  rateLimitPerSec: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'messages per second per member' }),
  rateLimitBurst: Type.Integer({ minimum: 1, default: 20, description: 'token bucket size per member' }),
  maxConnectionsPerIp: Type.Integer({
    minimum: 1,
    default: 100,
    description: 'open WebSockets per client address, over every instance',
  }),
  joinsPerIpPerMin: Type.Integer({
    minimum: 1,
    default: 60,
    description: 'handshakes per client address and minute that would log a join',
  }),
  rateLimitPerIpPerSec: Type.Number({
    exclusiveMinimum: 0,
    default: 50,
    description: 'actions per second of all members from one address (burst twice that)',
  }),
  trustProxy: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'comma-separated addresses or CIDRs of proxies whose X-Forwarded-For names the client',
  }),
  requestTimeoutMs: Millis(30000, 'an HTTP request must arrive whole (headers and body) within this'),
  searchTimeoutMs: Millis(2000, 'how long one search may run before it is stopped (answered 503)'),
  emptyRoomTtlHours: Type.Number({
    exclusiveMinimum: 0,
    default: 24,
    description: 'a room without messages is erased this long after its last member left',
  }),
  retentionDays: Type.Number({
    minimum: 0,
    default: 0,
    description: 'events older than this many days are erased; 0 keeps them forever',
  }),
  filesDir: Type.String({ minLength: 1, default: './data/files', description: 'uploaded files (one instance)' }),
  maxFileBytes: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024, description: 'largest upload, in bytes' }),
  shutdownTimeoutMs: Millis(10000, 'exit anyway when shutdown takes longer'),
  redisUrl: Type.Optional(Type.String({ minLength: 1, description: 'cluster mode: Redis bus' })),
  databaseUrl: Type.Optional(Type.String({ minLength: 1, description: 'cluster mode: PostgreSQL store' })),
  metricsToken: Type.Optional(
    Type.String({
      minLength: 16,
      description: '/metrics answers others than loopback with Authorization: Bearer TOKEN',
    }),
  ),
  redisPrefix: Type.String({ default: 'roomchat:', description: 'prefix of every Redis key and channel' }),
});

/** The validated configuration every module receives; nothing else reads the environment. */
export type Config = Static<typeof ConfigSchema>;

/** The environment variable of a setting: `leaveGraceMs` → `LEAVE_GRACE_MS`. */
export function envName(key: keyof Config): string {
  return key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

const KEYS = Object.keys(ConfigSchema.properties) as Array<keyof Config>;
const NAMES = new Map(KEYS.map((key) => [key, envName(key)]));
const LISTS = new Set(KEYS.filter((key) => (ConfigSchema.properties[key] as { type?: unknown }).type === 'array'));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The variables of an env file (`NAME=value` lines, `#` comments, quotes; Node's own parser),
 * or none when there is no such file.
 */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseEnv(text.replace(/^\uFEFF/, '')) as Record<string, string>;
}

/**
 * What the process was started with: its environment, over the `.env` file of the working
 * directory when there is one (a variable set in the environment wins over the file's).
 * `ENV_FILE` names another file, or none when empty (test harnesses: a developer's `.env` must
 * not change what they start).
 */
export function processEnv(
  envFile?: string,
  environment: NodeJS.ProcessEnv = process.env,
): { env: NodeJS.ProcessEnv; fromFile: string[] } {
  const path = envFile ?? environment.ENV_FILE ?? '.env';
  const file = path === '' ? {} : readEnvFile(path);
  return { env: { ...file, ...environment }, fromFile: Object.keys(file).filter((k) => environment[k] === undefined) };
}

/** Validate an environment (default `process.env`) and derive the Config; throws ConfigError naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const data: Record<string, unknown> = {};
  for (const [key, name] of NAMES) {
    const value = source[name];
    if (value === undefined) continue;
    data[key] = LISTS.has(key) ? value.split(/[\s,]+/).filter(Boolean) : value;
  }
  let config: Config;
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data, env: false, dotenv: false });
  } catch (err) {
    // ajv says e.g. "env/port must be <= 65535": name the variable the user sets instead
    const detail = (err as Error).message.replace(/env\/(\w+)/g, (_, key: keyof Config) => NAMES.get(key) ?? key);
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  if ((config.redisUrl === undefined) !== (config.databaseUrl === undefined)) {
    throw new ConfigError('invalid configuration: cluster mode needs both REDIS_URL and DATABASE_URL (or neither)');
  }
  return { ...config, sqlitePath: resolve(config.sqlitePath), filesDir: resolve(config.filesDir) };
}
