/**
 * Many instances, as real processes sharing the test machine's Redis and PostgreSQL: one order
 * per room, one presence per member, and nothing lost when an instance is killed or Redis goes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { type Client, connect, type Frame, getJson, newRoom, newUid, sleep, until } from '../helpers.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../services.js';
import { CuttableProxy, type Instance, PrivateRedis, startCluster } from './harness.js';

/** Each message id of the room once, in seq order, as this client saw it after its welcome. */
const logOf = (c: Client, fromSeq: number) =>
  c.events.filter((e) => e.seq > fromSeq).map((e) => `${e.seq}:${e.type}:${e.id ?? e.member?.id}`);

/** The whole log through the history API of an instance. */
async function history(instance: Instance, room: string): Promise<Frame[]> {
  const out: Frame[] = [];
  let before = '';
  for (;;) {
    const page = await getJson(`${instance.http}/api/rooms/${room}/messages?limit=200${before}`);
    out.unshift(...page.events);
    if (!page.hasMore) return out;
    before = `&before=${page.events[0].seq}`;
  }
}

/** Send like the browser client does: a refusal for the rate limit is retried with the same clientMsgId. */
async function sayUntilAccepted(c: Client, text: string, clientMsgId: string): Promise<Frame> {
  for (;;) {
    const answer = await c.say(text, clientMsgId);
    if (answer.type === 'message' || answer.code !== 'rate_limited') return answer;
    await sleep(150);
  }
}

/** Poll an asynchronous condition (`until` polls a synchronous one). */
async function untilAsync(cond: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

function assertGapFree(events: Frame[], what: string) {
  events.forEach((e, i) => {
    if (i > 0)
      assert.equal(e.seq, (events[i - 1] as Frame).seq + 1, `${what}: seq ${e.seq} after ${events[i - 1]?.seq}`);
  });
}

test('clients spread over three instances see one order per room, and each member once', async (t) => {
  const nodes = await startCluster(t, { instances: 3 });
  const room = newRoom('spread');
  const clients: Client[] = [];
  for (let i = 0; i < 6; i++)
    clients.push(await connect((nodes[i % 3] as Instance).ws, room, { uid: newUid(), name: `c${i}` }));
  const start = Math.max(...clients.map((c) => c.welcome.seq));
  await Promise.all(
    clients.map((c) => until(() => c.events.filter((e) => e.seq <= start).length + c.welcome.seq >= start)),
  );
  // everyone sends at once, from every instance
  const sent = await Promise.all(
    clients.map(async (c, i) => {
      const acks = [];
      for (let k = 0; k < 10; k++) acks.push(c.say(`from ${i} #${k}`));
      return Promise.all(acks);
    }),
  );
  const last = Math.max(...sent.flat().map((m) => m.seq));
  await Promise.all(clients.map((c) => until(() => c.events.some((e) => e.seq === last), 10000)));
  const reference = logOf(clients[0] as Client, start);
  assert.equal(reference.length, 60);
  for (const c of clients) assert.deepEqual(logOf(c, start), reference, 'the same events in the same order everywhere');
  sent.forEach((acks, i) => {
    const seqs = acks.map((m) => m.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      `client ${i}'s messages are logged in the order sent`,
    );
  });
  for (const node of nodes) {
    const h = await history(node, room);
    assertGapFree(h, `history via ${node.port}`);
    assert.equal(h.length, last);
  }
  // a member with tabs on two instances is one member
  const uid = newUid();
  const tab1 = await connect((nodes[0] as Instance).ws, room, { uid, name: 'Tabs' });
  const tab2 = await connect((nodes[1] as Instance).ws, room, { uid });
  assert.equal(tab1.id, tab2.id);
  const late = await connect((nodes[2] as Instance).ws, room, { uid: newUid() });
  assert.equal(late.welcome.members.length, 8, 'six members, the tabs as one, and the late one');
  assert.equal(late.welcome.history.filter((e: Frame) => e.type === 'join' && e.member.id === tab1.id).length, 1);
});

test('an instance killed with SIGKILL: its clients resume on another, losing nothing', async (t) => {
  const nodes = await startCluster(t, { instances: 3 });
  const [a, b, victim] = nodes as [Instance, Instance, Instance];
  const room = newRoom('kill');
  const observer = await connect(a.ws, room, { uid: newUid(), name: 'observer' });
  const uid = newUid();
  let sender = await connect(victim.ws, room, { uid, name: 'sender' });
  const absent = await connect(victim.ws, room, { uid: newUid(), name: 'absent' });
  const since0 = observer.welcome.seq;
  const texts = Array.from({ length: 40 }, (_, i) => `m${i}`);
  const acked = new Map<string, Frame>();
  let killed = false;
  for (const [i, text] of texts.entries()) {
    if (i === 20) {
      await victim.stop('SIGKILL');
      killed = true;
      await sender.closed;
      sender = await connect(b.ws, room, { uid, since: Math.max(0, ...sender.events.map((e) => e.seq)) });
      // retry everything not acknowledged before the kill, with the same clientMsgIds
      for (const earlier of texts.slice(0, i)) {
        if (!acked.has(earlier)) acked.set(earlier, await sayUntilAccepted(sender, earlier, `cm-${earlier}`));
      }
    }
    const ack = await sayUntilAccepted(sender, text, `cm-${text}`).catch(() => null);
    if (ack?.type === 'message') acked.set(text, ack);
  }
  assert.ok(killed);
  assert.equal(acked.size, 40);
  const lastSeq = Math.max(...[...acked.values()].map((m) => m.seq));
  await until(() => observer.events.some((e) => e.seq >= lastSeq), 10000);
  const seen = observer.events.filter((e) => e.seq > since0);
  assertGapFree(seen, 'the observer');
  const messages = seen.filter((e) => e.type === 'message').map((e) => e.text);
  assert.deepEqual(messages, texts, 'each message once, in order');
  // the member that never came back leaves once, after the TTL and the grace period
  const leave = await observer.next((f) => f.type === 'leave' && f.member.id === absent.id, 6000);
  assert.ok(leave);
  // a member that comes and goes now is due to leave after the absent one: its leave is the marker
  const marker = await connect(a.ws, room, { uid: newUid(), name: 'marker' });
  await marker.close();
  await observer.next((f) => f.type === 'leave' && f.member.id === marker.id, 6000);
  assert.equal(observer.events.filter((e) => e.type === 'leave' && e.member.id === absent.id).length, 1);
  assert.equal(observer.events.filter((e) => e.type === 'leave' && e.member.id === sender.id).length, 0);
});

test('Redis connections cut mid-stream: every client still gets every event once, in order', async (t) => {
  const nodes = await startCluster(t, { instances: 2 });
  const room = newRoom('cut');
  const alice = await connect((nodes[0] as Instance).ws, room, { uid: newUid() });
  const bob = await connect((nodes[1] as Instance).ws, room, { uid: newUid() });
  await alice.next('join');
  const admin = new Redis(TEST_REDIS_URL);
  t.after(() => admin.disconnect());
  // every connection a roomchat server holds (they name them); tests run one at a time
  const killRoomchatConnections = async () => {
    const list = String(await admin.client('LIST'));
    for (const line of list.split('\n').filter((l) => / name=roomchat-/.test(l))) {
      const id = /\bid=(\d+)/.exec(line)?.[1];
      if (id) await admin.client('KILL', 'ID', id).catch(() => {});
    }
  };
  const acks: Frame[] = [];
  for (let i = 0; i < 30; i++) {
    if (i === 10 || i === 20) await killRoomchatConnections();
    acks.push(await (i % 2 ? bob : alice).say(`r${i}`));
  }
  const last = Math.max(...acks.map((m) => m.seq));
  for (const c of [alice, bob]) {
    await until(() => c.events.some((e) => e.seq === last), 10000);
    const mine = c.events.filter((e) => e.seq > bob.welcome.seq);
    assertGapFree(mine, 'after the cuts');
    assert.deepEqual(
      mine.filter((e) => e.type === 'message').map((e) => e.text),
      acks.map((m) => m.text),
    );
  }
});

test('Redis down: messages are stored and delivered on their own instance; the other catches up', async (t) => {
  const redis = await PrivateRedis.start(t);
  const nodes = await startCluster(t, { instances: 2, env: { REDIS_URL: redis.url } });
  const [a, b] = nodes as [Instance, Instance];
  const room = newRoom('redis-down');
  const alice = await connect(a.ws, room, { uid: newUid() });
  const neighbour = await connect(a.ws, room, { uid: newUid() });
  const bob = await connect(b.ws, room, { uid: newUid() });
  await until(() => alice.events.length >= 2);
  await redis.stop();
  await untilAsync(async () => (await a.ready()) === 503, 5000);
  assert.equal(await b.ready(), 503, 'readyz says the bus is down, on every instance');
  const during = [];
  for (let i = 0; i < 5; i++) during.push(await alice.say(`during ${i}`));
  assert.ok(
    during.every((m) => m.type === 'message'),
    'still acknowledged: stored in PostgreSQL',
  );
  await until(() => neighbour.events.filter((e) => e.type === 'message').length === 5);
  await redis.start();
  await untilAsync(async () => (await a.ready()) === 200 && (await b.ready()) === 200, 10000);
  const after = await alice.say('after');
  await until(() => bob.events.some((e) => e.seq === after.seq), 10000);
  const seen = bob.events.filter((e) => e.type === 'message').map((e) => e.text);
  assert.deepEqual(seen, ['during 0', 'during 1', 'during 2', 'during 3', 'during 4', 'after']);
  assertGapFree(bob.events, 'bob');
});

test('PostgreSQL unreachable: a message gets unavailable, nothing is half-written, and it recovers', async (t) => {
  const url = new URL(TEST_DATABASE_URL);
  const proxy = await CuttableProxy.start(t, { host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  const [node] = (await startCluster(t, { instances: 1, env: { DATABASE_URL: url.toString() } })) as [Instance];
  const room = newRoom('pg-down');
  const alice = await connect(node.ws, room, { uid: newUid() });
  const before = await alice.say('before');
  await proxy.cut();
  const refused = await alice.say('while down', 'cm-down');
  assert.deepEqual([refused.type, refused.code, refused.clientMsgId], ['error', 'unavailable', 'cm-down']);
  assert.equal(await node.ready(), 503);
  await proxy.restore();
  await untilAsync(async () => (await node.ready()) === 200, 10000);
  const retried = await alice.say('while down', 'cm-down');
  assert.equal(retried.type, 'message');
  assert.equal(retried.seq, before.seq + 1, 'the refused attempt used no seq');
  const h = await history(node, room);
  assert.equal(h.filter((e) => e.text === 'while down').length, 1);
  assertGapFree(h, 'history');
});

test('a kick on one instance closes the member on another; the ban holds there; edits reach everyone', async (t) => {
  const [a, b] = (await startCluster(t, { instances: 2 })) as [Instance, Instance];
  const room = newRoom('kick');
  const owner = await connect(a.ws, room, { uid: newUid(), name: 'Owner' });
  const uid = newUid();
  const kicked = await connect(b.ws, room, { uid, name: 'Xavier' });
  const m = await kicked.say('soon edited');
  kicked.send({ type: 'edit', id: m.id, text: 'edited on b', clientMsgId: 'e1' });
  const edit = await owner.next('edit', 5000);
  assert.deepEqual([edit.id, edit.text], [m.id, 'edited on b'], 'an edit on b reaches a');
  owner.send({ type: 'kick', member: kicked.id, minutes: 10 });
  const k = await owner.next('kick', 5000);
  assert.equal((await kicked.next('kick', 5000)).seq, k.seq, 'the kick event reaches the member on b');
  assert.equal((await kicked.closed).code, 4003, 'and closes it there');
  const again = await new Promise<{ code: number; first: string }>((resolve) => {
    const ws = new WebSocket(`${b.ws}/ws?room=${room}&uid=${uid}`);
    let first = '';
    ws.on('message', (d) => {
      first ||= String(d);
    });
    ws.on('close', (code) => resolve({ code, first }));
  });
  assert.equal(again.code, 4003, 'the ban holds on b');
  assert.equal(JSON.parse(again.first).code, 'banned');
});

test('a file uploaded through one instance is attached and served by another', async (t) => {
  const [a, b] = (await startCluster(t, { instances: 2 })) as [Instance, Instance];
  const room = newRoom('files');
  const uid = newUid();
  const alice = await connect(a.ws, room, { uid });
  const watcher = await connect(b.ws, room, { uid: newUid() });
  const form = new FormData();
  form.append('file', new Blob([new TextEncoder().encode('shared everywhere')]), 'note.txt');
  const res = await fetch(`${a.http}/api/rooms/${room}/files`, {
    method: 'POST',
    body: form,
    headers: { 'X-Chat-Uid': uid },
  });
  assert.equal(res.status, 201);
  const { file } = (await res.json()) as { file: { id: string } };
  alice.send({ type: 'message', text: 'see attached', files: [file.id], clientMsgId: 'f1' });
  const seen = await watcher.next((f) => f.type === 'message' && f.clientMsgId === 'f1', 5000);
  assert.equal(seen.files[0].id, file.id);
  const served = await fetch(`${b.http}/files/${file.id}`);
  assert.equal(served.status, 200);
  assert.equal(await served.text(), 'shared everywhere');
});
