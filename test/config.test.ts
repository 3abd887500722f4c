import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { tempDir } from './helpers.js';

test('defaults follow the protocol; the secret is generated once and kept beside the data', (t) => {
  const dir = tempDir(t);
  const env = { SQLITE_PATH: join(dir, 'data', 'chat.db') };
  const c = loadConfig(env);
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
  assert.equal(readFileSync(join(dir, 'data', 'server-secret'), 'utf8').trim(), c.serverSecret);
  assert.equal(loadConfig(env).serverSecret, c.serverSecret, 'the same secret after a restart');
});

test('numbers are coerced, lists split, and SERVER_SECRET wins over the file', (t) => {
  const c = loadConfig({
    SQLITE_PATH: join(tempDir(t), 'chat.db'),
    PORT: '8080',
    LEAVE_GRACE_MS: '300',
    ALLOWED_ORIGINS: 'http://a.example, http://b.example',
    SERVER_SECRET: 'a-secret-of-enough-length',
  });
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
  ] as const) {
    assert.throws(
      () => loadConfig({ ...base, [key]: value }),
      (err: unknown) => err instanceof ConfigError && err.message.includes(key),
      `${key}=${value}`,
    );
  }
});
