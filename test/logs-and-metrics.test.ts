/**
 * What the server gives away at its edges: no member uid in any log line, metrics only to the
 * machine itself or to the holder of the metrics token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
