/**
 * DNS rebinding: a page of attacker.example whose name resolves to this server sends
 * `Host: attacker.example` and `Origin: http://attacker.example`. Only localhost, IP literals or
 * PUBLIC_URL's host are answered (PROTOCOL.md, WebSocket handshake).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handshakeStatus, listen, newRoom, newUid, testConfig } from './helpers.js';

test('a Host that is neither localhost nor an IP address is refused with 421, pages and handshakes', async (t) => {
  const { app, ws } = await listen(t);
  const url = `${ws}/ws?room=${newRoom()}&uid=${newUid()}`;
  const evil = { Host: 'attacker.example', Origin: 'http://attacker.example' };
  assert.equal(await handshakeStatus(url, evil), 421, 'rebinding: the handshake');
  assert.equal((await app.inject({ url: '/?room=lobby', headers: { host: 'attacker.example' } })).statusCode, 421);
  assert.equal(
    (await app.inject({ url: '/api/rooms/lobby/messages', headers: { host: 'attacker.example:3000' } })).statusCode,
    421,
  );
  for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', '192.0.2.10']) {
    assert.equal((await app.inject({ url: '/?room=lobby', headers: { host } })).statusCode, 200, host);
  }
  const port = new URL(ws).port;
  assert.equal(await handshakeStatus(url, { Origin: `http://127.0.0.1:${port}` }), 101, 'our own origin');
});

test('with PUBLIC_URL only its host is answered, and its origin is ours', async (t) => {
  const { app, ws } = await listen(t, testConfig(t, { publicUrl: 'https://chat.example.com' }));
  const url = `${ws}/ws?room=${newRoom()}&uid=${newUid()}`;
  const ours = { Host: 'chat.example.com', Origin: 'https://chat.example.com' };
  assert.equal(await handshakeStatus(url, ours), 101);
  assert.equal(await handshakeStatus(url, { Host: 'chat.example.com', Origin: 'http://chat.example.com' }), 403);
  const remote = '203.0.113.9';
  assert.equal((await app.inject({ url: '/', remoteAddress: remote, headers: { host: '127.0.0.1' } })).statusCode, 421);
  assert.equal(
    (await app.inject({ url: '/', remoteAddress: remote, headers: { host: 'chat.example.com' } })).statusCode,
    200,
  );
  // the machine itself may still use a local name (health checks, metrics): no page can choose it
  assert.equal((await app.inject({ url: '/healthz', headers: { host: '127.0.0.1:3000' } })).statusCode, 200);
  assert.equal((await app.inject({ url: '/healthz', headers: { host: 'evil.example' } })).statusCode, 421);
});
