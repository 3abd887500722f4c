/**
 * Per-address limits (PROTOCOL.md, "Abuse limits"), seen from clients on different loopback
 * addresses (127.0.0.2, 127.0.0.3: each counts on its own): open connections, handshakes that
 * would log a join, and the bucket all members from one address share; TRUST_PROXY; and HTTP
 * requests that never finish arriving.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import { ManualClock } from './clock.js';
import { connect, handshakeStatus, listen, newRoom, newUid, testConfig } from './helpers.js';

const A = '127.0.0.2';
const B = '127.0.0.3';

/** Try a handshake until it is accepted (a closed connection is released when the server sees it close). */
async function acceptedSoon(url: string, localAddress: string): Promise<void> {
  // bounded generously: the close reaches the server late when the machine is busy
  for (let i = 0; i < 1500; i++) {
    if ((await handshakeStatus(url, {}, localAddress)) === 101) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('the handshake was never accepted again');
}

test('at most MAX_CONNECTIONS_PER_IP open WebSockets per address: 429 over it, freed on close', async (t) => {
  const { ws } = await listen(t, testConfig(t, { maxConnectionsPerIp: 3 }));
  const room = newRoom();
  const open = [];
  for (let i = 0; i < 3; i++) open.push(await connect(ws, room, { uid: newUid(), localAddress: A }));
  const url = `${ws}/ws?room=${room}&uid=${newUid()}`;
  assert.equal(await handshakeStatus(url, {}, A), 429, 'the fourth from one address');
  const other = await connect(ws, room, { uid: newUid(), localAddress: B });
  assert.equal(other.welcome.type, 'welcome', 'another address is not affected');
  await open[0]?.close();
  await acceptedSoon(`${ws}/ws?room=${room}&uid=${newUid()}`, A);
});

test('at most JOINS_PER_IP_PER_MIN handshakes that would log a join; a returning member is no join', async (t) => {
  const clock = new ManualClock();
  const { ws } = await listen(t, testConfig(t, { joinsPerIpPerMin: 3 }), { clock });
  const room = newRoom();
  const uids = [newUid(), newUid(), newUid()];
  const members = [];
  for (const uid of uids) members.push(await connect(ws, room, { uid, localAddress: A }));
  assert.equal(await handshakeStatus(`${ws}/ws?room=${room}&uid=${newUid()}`, {}, A), 429, 'a fourth join');
  assert.equal(await handshakeStatus(`${ws}/ws?room=${room}`, {}, A), 429, 'no uid: always a join');
  const tab = await connect(ws, room, { uid: uids[0], localAddress: A });
  assert.equal(tab.welcome.type, 'welcome', 'a second tab of a member who is in: no join, no token');
  await connect(ws, room, { uid: newUid(), localAddress: B });
  clock.advance(20_000); // a third of a minute: one join back
  await connect(ws, room, { uid: newUid(), localAddress: A });
  assert.equal(await handshakeStatus(`${ws}/ws?room=${room}&uid=${newUid()}`, {}, A), 429);
});

test('a handshake refused by the connection cap still takes a join token', async (t) => {
  const clock = new ManualClock();
  const { ws } = await listen(t, testConfig(t, { joinsPerIpPerMin: 3, maxConnectionsPerIp: 1 }), { clock });
  const room = newRoom();
  const first = await connect(ws, room, { uid: newUid(), localAddress: A });
  assert.equal(await handshakeStatus(`${ws}/ws?room=${room}&uid=${newUid()}`, {}, A), 429, 'over the cap');
  await first.close();
  await acceptedSoon(`${ws}/ws?room=${room}&uid=${newUid()}`, A); // the third join token
  assert.equal(await handshakeStatus(`${ws}/ws?room=${room}&uid=${newUid()}`, {}, A), 429, 'joins used up');
});

test('members from one address share its bucket, next to their own: rate_limited past it', async (t) => {
  const clock = new ManualClock(); // no refill during the test
  const config = testConfig(t, { rateLimitPerIpPerSec: 5, rateLimitPerSec: 100, rateLimitBurst: 100 });
  const { ws } = await listen(t, config, { clock });
  const room = newRoom();
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await connect(ws, room, { uid: newUid(), localAddress: A }));
  const replies = [];
  for (const [i, client] of clients.entries()) {
    for (let j = 0; j < 3; j++) replies.push(await client.say(`${i}.${j}`));
  }
  const stored = replies.filter((f) => f.type === 'message');
  const refused = replies.filter((f) => f.type === 'error');
  assert.equal(stored.length, 10, 'a burst of twice RATE_LIMIT_PER_IP_PER_SEC, over all four members');
  assert.equal(refused.length, 2);
  assert.ok(refused.every((f) => f.code === 'rate_limited'));
  const elsewhere = await connect(ws, room, { uid: newUid(), localAddress: B });
  assert.equal((await elsewhere.say('from another address')).type, 'message');
});

test('with TRUST_PROXY the address is the one the proxy reports; without it the header is ignored', async (t) => {
  const trusted = await listen(t, testConfig(t, { maxConnectionsPerIp: 1, trustProxy: ['127.0.0.1'] }));
  const room = newRoom();
  const via = (client: string) => ({ 'X-Forwarded-For': client });
  const url = (base: string) => `${base}/ws?room=${room}&uid=${newUid()}`;
  const first = await connect(trusted.ws, room, { uid: newUid(), headers: via('203.0.113.5') });
  assert.equal(await handshakeStatus(url(trusted.ws), via('203.0.113.5')), 429, 'the same client behind the proxy');
  assert.equal(await handshakeStatus(url(trusted.ws), via('198.51.100.7')), 101, 'another client behind it');
  // a client that is not the trusted proxy cannot choose its address
  const direct = await connect(trusted.ws, room, { uid: newUid(), localAddress: A, headers: via('192.0.2.1') });
  assert.equal(await handshakeStatus(url(trusted.ws), via('192.0.2.2'), A), 429, 'still counted as 127.0.0.2');
  await Promise.all([first.close(), direct.close()]);

  const untrusting = await listen(t, testConfig(t, { maxConnectionsPerIp: 1 }));
  await connect(untrusting.ws, room, { uid: newUid(), localAddress: A, headers: via('203.0.113.5') });
  assert.equal(await handshakeStatus(url(untrusting.ws), via('198.51.100.7'), A), 429, 'X-Forwarded-For ignored');
});

test('a request whose headers trickle in is answered 408 and closed once requestTimeoutMs has passed', async (t) => {
  const { http } = await listen(t, testConfig(t, { requestTimeoutMs: 300 }));
  const { port } = new URL(http);
  const socket = tcpConnect({ port: Number(port), host: '127.0.0.1' });
  let received = '';
  socket.on('data', (d) => {
    received += d;
  });
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
  // one header line every 50 ms, forever: each keeps the connection busy, none finishes the request
  let n = 0;
  const trickle = setInterval(() => socket.write(`X-Trickle-${n++}: x\r\n`), 50);
  t.after(() => clearInterval(trickle));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  clearInterval(trickle);
  assert.match(received, /^HTTP\/1\.1 408/, 'the server gave up on the request');
});
