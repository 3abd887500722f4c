/**
 * What the server gives away at its edges: no member uid in any log line, metrics only to the
 * machine itself or to the holder of the metrics token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { redactUid } from '../src/app.js';
import { connect, listen, newRoom, newUid, testConfig } from './helpers.js';

test('a member uid never reaches the log', async (t) => {
  const lines: string[] = [];
  const logger = { level: 'debug', stream: { write: (line: string) => lines.push(line) } };
  const { ws } = await listen(t, testConfig(t), { logger });
  const uid = newUid();
  const c = await connect(ws, newRoom(), { uid, name: 'Logged' });
  await c.say('hello');
  await c.close();
  const requests = lines.filter((l) => l.includes('/ws?'));
  assert.ok(requests.length > 0, 'the handshake was logged');
  assert.ok(requests.every((l) => l.includes('uid=[redacted]')));
  assert.equal(lines.join('\n').includes(uid), false);
  // the name written another way is the same parameter to the query parser, and redacted too
  const hidden = newUid();
  const other = new WebSocket(`${ws}/ws?room=${newRoom()}&%75id=${hidden}&name=Hidden`);
  await new Promise((resolve, reject) => {
    other.once('message', resolve);
    other.once('error', reject);
  });
  other.close();
  assert.ok(
    lines.some((l) => l.includes('%75id=[redacted]')),
    'the handshake was logged, redacted',
  );
  assert.equal(lines.join('\n').includes(hidden), false);
});

test('uids are redacted from URLs by the name the query parser reads', () => {
  assert.equal(redactUid('/ws?room=a&uid=SECRET&name=x'), '/ws?room=a&uid=[redacted]&name=x');
  assert.equal(redactUid('/ws?%75id=SECRET'), '/ws?%75id=[redacted]');
  assert.equal(redactUid('/ws?UID=SECRET&uid2=kept'), '/ws?UID=[redacted]&uid2=kept');
  assert.equal(redactUid('/ws?%zz=kept&uid=SECRET#x'), '/ws?%zz=kept&uid=[redacted]#x');
});

test('metrics answer loopback, or others with the metrics token; nobody else', async (t) => {
  const token = 'metrics-token-0123456789';
  const { app } = await listen(t, testConfig(t, { metricsToken: token }));
  const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
    app.inject({ url: '/metrics', remoteAddress, headers }).then((r) => r.statusCode);
  assert.equal(await from('127.0.0.1'), 200);
  assert.equal(await from('::1'), 200);
  assert.equal(await from('203.0.113.7'), 403);
  assert.equal(await from('203.0.113.7', { authorization: 'Bearer wrong' }), 403);
  assert.equal(await from('203.0.113.7', { authorization: `Bearer ${token}` }), 200);
});
