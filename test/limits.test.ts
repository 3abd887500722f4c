/**
 * Limits and lifecycle over real WebSockets: bad input, frame size, bad-frame budget, heartbeat,
 * slow consumers, shutdown and restart.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { ManualClock } from './clock.js';
import { Client, connect, type Frame, getJson, listen, newRoom, newUid, sleep, testConfig, until } from './helpers.js';

test('bad frames get bad_request, the connection goes on and loses nothing', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid() });
  const bob = await connect(ws, room, { uid: newUid() });
  const before = await alice.say('before');
  for (const raw of ['nope', '[]', '{"type":"message"}', '{"type":"what"}', '{"type":"rename","name":1}']) {
    alice.send(raw);
    assert.equal((await alice.next('error')).code, 'bad_request', raw);
  }
  alice.ws.send(Buffer.from([0xde, 0xad]), { binary: true });
  assert.equal((await alice.next('error')).code, 'bad_request', 'a binary frame');
  alice.send({ type: 'message', text: '   ', clientMsgId: 'blank' });
  const blank = await alice.next('error');
  assert.deepEqual([blank.code, blank.clientMsgId], ['invalid_text', 'blank']);
  const after = await alice.say('after');
  assert.equal(after.seq, before.seq + 1);
  const seen = await Promise.all([bob.next('message'), bob.next('message')]);
  assert.deepEqual(
    seen.map((m) => m.text),
    ['before', 'after'],
  );
});

test('a frame over MAX_FRAME_BYTES closes with 1009; one at the limit is read', async (t) => {
  const { ws } = await listen(t, testConfig(t, { maxFrameBytes: 2048 }));
  const alice = await connect(ws, newRoom(), { uid: newUid() });
  const frame = (n: number) => {
    const head = '{"type":"message","text":"';
    return `${head}${'a'.repeat(n - head.length - 2)}"}`;
  };
  alice.send(frame(2048));
  assert.equal((await alice.next('message')).text.length, 2048 - 28);
  alice.send(frame(2049));
  assert.equal((await alice.closed).code, 1009);
});

test('the 51st bad frame closes the connection with 1008', async (t) => {
  const { ws } = await listen(t);
  const alice = await connect(ws, newRoom(), { uid: newUid() });
  for (let i = 0; i < 50; i++) alice.send(`garbage ${i}`);
  for (let i = 0; i < 50; i++) await alice.next('error');
  assert.equal((await alice.say('still open')).type, 'message');
  alice.send('one too many');
  assert.equal((await alice.closed).code, 1008);
});

test('a client that does not answer pings is terminated within two intervals; one that does stays', async (t) => {
  const clock = new ManualClock();
  const { ws, app } = await listen(t, testConfig(t, { pingIntervalMs: 100, leaveGraceMs: 50 }), { clock });
  const room = newRoom();
  const ok = await connect(ws, room, { uid: newUid() });
  const mute = await connect(ws, room, { uid: newUid(), autoPong: false });
  // one interval: both are pinged; ok's pong goes out before its next message, so the server has it
  const pinged = () => new Promise((resolve) => ok.ws.once('ping', resolve));
  let ping = pinged();
  clock.advance(100);
  await ping;
  await ok.say('pong sent');
  assert.equal(mute.ws.readyState, WebSocket.OPEN, 'one missed ping is not enough');
  // the second interval: mute missed its ping and is terminated; ok is pinged again
  ping = pinged();
  clock.advance(100);
  assert.equal((await mute.closed).code, 1006, 'terminated, not closed politely');
  await ping;
  await ok.say('pong sent again');
  await until(() => app.chat.registry.connectionCount === 1);
  clock.advance(50);
  const left = await ok.next('leave');
  assert.equal(left.member.id, mute.id);
  for (let i = 0; i < 3; i++) {
    ping = pinged();
    clock.advance(100);
    await ping;
    await ok.say(`pong ${i}`);
  }
  assert.equal(ok.ws.readyState, WebSocket.OPEN, 'a client that answers stays, interval after interval');
});

test('a paused reader is closed with 1013 and, resuming with since, loses nothing', async (t) => {
  const config = testConfig(t, { maxBufferedBytes: 64 * 1024, rateLimitBurst: 100000, rateLimitPerSec: 100000 });
  const { ws, http: base } = await listen(t, config);
  const room = newRoom();
  const uid = newUid();
  const slow = await connect(ws, room, { uid });
  const flooder = await connect(ws, room, { uid: newUid() });
  const since = slow.welcome.seq as number;
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  const text = '語'.repeat(4000);
  const acked: Frame[] = [];
  // past every kernel buffer on loopback and the server's limit
  while (acked.length < 1000 && slow.ws.readyState === WebSocket.OPEN) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => flooder.say(text)));
    acked.push(...batch);
    if (acked.length % 200 === 0) await sleep(1);
  }
  socket.resume();
  const closed = await slow.closed;
  assert.equal(closed.code, 1013);
  const seen = slow.events;
  assert.ok(seen.length < acked.length, 'the paused reader missed part of the flood');
  const resumeFrom = seen.at(-1)?.seq ?? since;
  const back = await connect(ws, room, { uid, since: resumeFrom });
  // a welcome holds at most WELCOME_MAX_BYTES: what it could not hold is paged over HTTP
  const paged: Frame[] = [];
  const firstInWelcome = back.welcome.history[0]?.seq ?? back.welcome.seq + 1;
  for (let before = firstInWelcome; back.welcome.truncated && before > resumeFrom + 1; ) {
    const page = await getJson(`${base}/api/rooms/${room}/messages?before=${before}&limit=200`);
    const fresh = (page.events as Frame[]).filter((e) => e.seq > resumeFrom);
    paged.unshift(...fresh);
    if (fresh.length === 0) break;
    before = (fresh[0] as Frame).seq;
  }
  const union = [...seen, ...paged, ...back.welcome.history];
  const ids = new Set(union.map((e) => e.id));
  assert.deepEqual(
    acked.filter((m) => !ids.has(m.id)),
    [],
    'every acknowledged message is there',
  );
  const seqs = union.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => since + 1 + i),
    'no gap, no duplicate',
  );
});

test('shutdown stores what was accepted, closes with 1001, and a restart goes on where it stopped', async (t) => {
  const config = testConfig(t, { leaveGraceMs: 2000 });
  // the grace period after the restart does not run out however slow the reconnect is
  const clock = new ManualClock();
  const first = await buildApp(config, { logger: false, clock });
  await first.listen({ port: 0, host: '127.0.0.1' });
  const port = (first.server.address() as { port: number }).port;
  const base = `ws://127.0.0.1:${port}`;
  const room = newRoom();
  const uid = newUid();
  const alice = await connect(base, room, { uid, name: 'Alice' });
  const bob = await connect(base, room, { uid: newUid() });
  const kept = await alice.say('kept', 'cm-kept');
  // accepted while the shutdown starts: stored before the socket closes
  alice.send({ type: 'message', text: 'in flight', clientMsgId: 'cm-flight' });
  await sleep(5);
  await first.close();
  assert.equal((await alice.closed).code, 1001);
  assert.equal((await bob.closed).code, 1001);

  const second = await buildApp(config, { logger: false, clock });
  t.after(() => second.close());
  await second.listen({ port: 0, host: '127.0.0.1' });
  const port2 = (second.server.address() as { port: number }).port;
  const back = await connect(`ws://127.0.0.1:${port2}`, room, { uid, since: kept.seq });
  assert.equal(back.id, alice.id, 'member ids survive a restart');
  const inFlight = back.welcome.history.filter((e: Frame) => e.clientMsgId === 'cm-flight');
  const inFlightAck = alice.frames.find((f) => f.clientMsgId === 'cm-flight');
  if (inFlightAck?.type === 'message') assert.equal(inFlight.length, 1, 'an acknowledged message survived');
  assert.deepEqual(
    back.welcome.history.filter((e: Frame) => e.type === 'join' || e.type === 'leave'),
    [],
    'a member present before the restart who comes back within the grace period is no new join',
  );
  const retry = await back.say('kept', 'cm-kept');
  assert.deepEqual(retry, kept, 'idempotency survives the restart');
  const next = await back.say('after the restart');
  assert.equal(next.seq, back.welcome.seq + 1, 'seq goes on');
});

test('frames sent before the welcome is out are handled after it, in order', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const raw = new WebSocket(`${ws}/ws?room=${room}&uid=${newUid()}`);
  raw.on('open', () => {
    for (let i = 0; i < 5; i++) raw.send(JSON.stringify({ type: 'message', text: `early ${i}`, clientMsgId: `e${i}` }));
  });
  const client = new Client(raw);
  const welcome = await client.next('welcome');
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await client.next('message'));
  assert.deepEqual(
    got.map((m) => m.text),
    ['early 0', 'early 1', 'early 2', 'early 3', 'early 4'],
  );
  assert.equal(got[0]?.seq, welcome.seq + 1);
  assert.equal(client.frames[0]?.type, 'welcome', 'the welcome is first');
  raw.close();
});

test('a connection that never sent a request does not hold up the close', { timeout: 20000 }, async (t) => {
  const app = await buildApp(testConfig(t), { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  // what a browser's spare connection looks like: open, silent
  const spare = net.connect(port, '127.0.0.1');
  t.after(() => spare.destroy());
  await new Promise((resolve) => spare.once('connect', resolve));
  await until(() => (app.server as unknown as { _connections: number })._connections === 1);
  const closedByServer = new Promise((resolve) => spare.once('close', resolve));
  await app.close(); // without closing it, this waits for Node's header timeout (a minute or more)
  await closedByServer;
});
