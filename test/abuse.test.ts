/**
 * One client must not slow down or exhaust the server for the others (PROTOCOL.md, "Abuse
 * limits"): a flooding connection is read only as fast as it is served, replies count against the
 * send-buffer cap, refusals are bounded, typing is relayed once a second, welcomes are bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebSocket as ServerSocket } from 'ws';
import { Connection } from '../src/chat/connection.js';
import { MAX_REFUSALS } from '../src/chat/session.js';
import { ManualClock } from './clock.js';
import { connect, type Frame, listen, newRoom, newUid, seedMessages, testConfig } from './helpers.js';

/** Client frames (masked with a zero key, so the payload is as written) in one buffer. */
function clientFrames(payloads: string[]): Buffer {
  return Buffer.concat(
    payloads.map((p) => {
      const body = Buffer.from(p);
      assert.ok(body.length < 126);
      return Buffer.concat([Buffer.from([0x81, 0x80 | body.length, 0, 0, 0, 0]), body]);
    }),
  );
}

test('a connection that floods is paused until it is served; it loses nothing and others go on', async (t) => {
  const { ws, app } = await listen(t);
  const room = newRoom();
  const flooder = await connect(ws, room, { uid: newUid() });
  const other = await connect(ws, newRoom(), { uid: newUid() });
  const frames = Array.from({ length: 5000 }, () => '{"type":"typing"}');
  frames.push('{"type":"message","text":"after the flood","clientMsgId":"last"}');
  // one write: the server reads thousands of frames at once, far past its inbox bound
  (flooder.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(clientFrames(frames));
  const served = await other.say('served meanwhile');
  assert.equal(served.type, 'message');
  const last = await flooder.next((f) => f.clientMsgId === 'last', 10000);
  assert.equal(last.type, 'message', 'the frame after the flood is handled, in order');
  const metrics = (await app.inject('/metrics')).body;
  const paused = Number(/^roomchat_inbox_paused_total (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(paused >= 1, 'the flooding socket stopped being read at least once');
});

test('typing is relayed at most once a second per member; the rest are dropped silently', async (t) => {
  const clock = new ManualClock();
  const { ws } = await listen(t, testConfig(t), { clock });
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid() });
  const bob = await connect(ws, room, { uid: newUid() });
  for (let i = 0; i < 5; i++) alice.send({ type: 'typing' });
  const marker = await alice.say('marker');
  await bob.next((f) => f.id === marker.id);
  assert.equal(bob.frames.filter((f) => f.type === 'typing').length, 1);
  assert.equal(
    alice.frames.some((f) => f.type === 'error'),
    false,
    'no reply to a dropped typing',
  );
  clock.advance(1000);
  alice.send({ type: 'typing' });
  await bob.next('typing');
});

test(`more than ${MAX_REFUSALS} refused frames close the connection with 1008`, async (t) => {
  const { ws } = await listen(t);
  const alice = await connect(ws, newRoom(), { uid: newUid() });
  for (let i = 0; i <= MAX_REFUSALS; i++) alice.send({ type: 'direct', to: 'nobody-here', text: 'hello?' });
  const closed = await alice.closed;
  assert.equal(closed.code, 1008);
  const errors = alice.frames.filter((f) => f.type === 'error');
  assert.equal(errors.length, MAX_REFUSALS);
  assert.ok(errors.every((f) => f.code === 'recipient_offline'));
});

test('a welcome carries at most WELCOME_MAX_BYTES of history: the newest events, truncated', async (t) => {
  const { ws, app } = await listen(t, testConfig(t, { welcomeMaxBytes: 64 * 1024 }));
  const room = newRoom();
  await seedMessages(app.store, room, 10);
  const long = '語'.repeat(4000); // 12 KB of UTF-8
  for (let i = 0; i < 20; i++) {
    const draft = { type: 'message' as const, room, id: `l${i}`, from: { id: 'x', name: 'X' }, text: long, ts: '' };
    await app.store.append({ draft, memberId: 'x' });
  }
  for (const since of [0, undefined]) {
    const c = await connect(ws, room, { uid: newUid(), since });
    const history = c.welcome.history as Frame[];
    assert.ok(Buffer.byteLength(JSON.stringify(history)) <= 64 * 1024, `since=${since}: within the cap`);
    assert.equal(c.welcome.truncated, true, `since=${since}: truncated`);
    assert.equal(history.at(-1)?.seq, c.welcome.seq, `since=${since}: the newest events`);
    assert.ok(history.length >= 4, `since=${since}: as many as fit`);
    await c.close();
  }
});

test('a reply to a socket past its send-buffer cap closes it with 1013 instead of queueing', () => {
  const sent: unknown[] = [];
  const socket = {
    readyState: 1,
    bufferedAmount: 2048,
    closedWith: 0,
    send: (data: unknown) => sent.push(data),
    close(code: number) {
      this.closedWith = code;
      this.readyState = 2;
    },
  };
  const conn = new Connection(socket as unknown as ServerSocket, 'r', 'm', 1024);
  conn.sendFrame('{"type":"error"}');
  assert.deepEqual(sent, []);
  assert.equal(socket.closedWith, 1013);
  socket.readyState = 1;
  const fresh = new Connection(socket as unknown as ServerSocket, 'r', 'm', 4096);
  fresh.sendFrame('{"type":"error"}');
  assert.equal(sent.length, 1, 'under the cap it is sent');
});
