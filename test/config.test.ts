import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { tempDir } from './helpers.js';

test('defaults follow the protocol', (t) => {
  const dir = tempDir(t);
  const env = { SQLITE_PATH: join(dir, 'data', 'chat.db') };
  const c = loadConfig(env);
  assert.equal(c.sqlitePath, join(dir, 'data', 'chat.db'));
  assert.equal(c.serverSecret, undefined, 'unset: the store keeps one');
  assert.equal(c.sqliteSync, 'full');
  assert.equal(c.port, 3000);
  assert.equal(c.leaveGraceMs, 5000);
  assert.equal(c.pingIntervalMs, 30000);
  assert.equal(c.maxBufferedBytes, 1048576);
  assert.equal(c.maxFrameBytes, 65536);
  assert.equal(c.rateLimitPerSec, 10);
  assert.equal(c.rateLimitBurst, 20);
  assert.equal(c.presenceTtlMs, 15000);
  assert.equal(c.redisPrefix, 'roomchat:');
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.redisUrl, undefined);
});

test('numbers are coerced, lists split, SERVER_SECRET and cluster URLs are taken', (t) => {
  const c = loadConfig({
    SQLITE_PATH: join(tempDir(t), 'chat.db'),
    PORT: '8080',
    LEAVE_GRACE_MS: '300',
    ALLOWED_ORIGINS: 'http://a.example, http://b.example',
    SERVER_SECRET: 'a-secret-of-enough-length',
    REDIS_URL: 'redis://127.0.0.1:6379',
    DATABASE_URL: 'postgres://127.0.0.1/test',
  });
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.databaseUrl, 'postgres://127.0.0.1/test');
  assert.equal(c.port, 8080);
  assert.equal(c.leaveGraceMs, 300);
  assert.deepEqual(c.allowedOrigins, ['http://a.example', 'http://b.example']);
  assert.equal(c.serverSecret, 'a-secret-of-enough-length');
});

test('a bad variable is refused with a message that names it', (t) => {
  const base = { SQLITE_PATH: join(tempDir(t), 'chat.db') };
  for (const [key, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LEAVE_GRACE_MS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['SERVER_SECRET', 'short'],
    ['SQLITE_SYNC', 'sometimes'],
  ] as const) {
    assert.throws(
      () => loadConfig({ ...base, [key]: value }),
      (err: unknown) => err instanceof ConfigError && err.message.includes(key),
      `${key}=${value}`,
    );
  }
  assert.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://x' }), /both REDIS_URL and DATABASE_URL/);
});
