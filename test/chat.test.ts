/**
 * The chat over real WebSockets against a listening server: delivery, order, isolation,
 * presence, resume, idempotency, direct messages and typing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.js';
import { connect, type Frame, getJson, listen, newRoom, newUid, seedMessages, testConfig, until } from './helpers.js';

test('a message is acknowledged by its own copy and every member sees one log, in order', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid(), name: 'Alice' });
  const bob = await connect(ws, room, { uid: newUid(), name: 'Bob' });
  const joined = await alice.next('join');
  assert.equal(joined.member.name, 'Bob');
  const acks: Frame[] = [];
  for (let i = 0; i < 10; i++) acks.push(await (i % 2 ? bob : alice).say(`  hello ${i}  `));
  assert.deepEqual(
    acks.map((m) => m.text),
    Array.from({ length: 10 }, (_, i) => `hello ${i}`),
    'text is trimmed',
  );
  await alice.next((f) => f.type === 'message' && f.seq === acks.at(-1)?.seq);
  const logOf = (c: typeof alice) =>
    c.events.filter((e) => e.seq > bob.welcome.seq).map((e) => `${e.seq}:${e.type}:${e.id ?? ''}`);
  assert.deepEqual(logOf(alice), logOf(bob), 'the same events, in the same order');
  const seqs = bob.events.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => (seqs[0] as number) + i),
    'seq rises by exactly 1',
  );
  const copy = bob.events.find((e) => e.id === acks[0]?.id);
  assert.equal(copy?.clientMsgId, acks[0]?.clientMsgId, "every copy carries the sender's clientMsgId");
});

test('rooms are isolated, even rooms whose names share a prefix', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom('iso');
  const a = await connect(ws, room, { uid: newUid() });
  const b = await connect(ws, `${room}x`, { uid: newUid() });
  const c = await connect(ws, `${room}.x`, { uid: newUid() });
  await a.say('only in a');
  await b.say('only in b');
  // a leak would have been written to c's socket before its own message, the marker
  await c.say('marker');
  assert.deepEqual(
    a.events.map((e) => e.type),
    ['message'],
  );
  assert.deepEqual(
    b.events.map((e) => e.type),
    ['message'],
  );
  assert.deepEqual(
    c.events.map((e) => e.text),
    ['marker'],
  );
  assert.equal(b.events[0]?.seq, 2, 'each room has its own seq: join(1), message(2)');
});

test('two tabs are one member: one join, and one leave after the grace period of the last', async (t) => {
  const clock = new ManualClock();
  const { ws, app } = await listen(t, testConfig(t, { leaveGraceMs: 150 }), { clock });
  const room = newRoom();
  const uid = newUid();
  const watcher = await connect(ws, room, { uid: newUid() });
  const tab1 = await connect(ws, room, { uid, name: 'Tabby' });
  const tab2 = await connect(ws, room, { uid, name: 'Ignored' });
  assert.equal(tab1.id, tab2.id);
  assert.equal(tab2.welcome.you.name, 'Tabby', 'a second tab joins the member as it is');
  assert.equal(tab2.welcome.members.filter((m: Frame) => m.id === tab1.id).length, 1);
  await tab1.close();
  await until(() => app.chat.registry.connectionCount === 2);
  clock.advance(1000);
  await watcher.say('marker');
  assert.deepEqual(
    watcher.events.map((e) => e.type),
    ['join', 'message'],
    'no leave while a tab is open',
  );
  await tab2.close();
  await until(() => app.chat.registry.connectionCount === 1);
  clock.advance(149);
  await watcher.say('marker 2');
  assert.equal(watcher.events.at(-1)?.type, 'message', 'no leave before the grace period is over');
  clock.advance(1);
  const left = await watcher.next('leave');
  assert.equal(left.member.id, tab1.id);
  assert.deepEqual(
    watcher.events.map((e) => e.type),
    ['join', 'message', 'message', 'leave'],
  );
});

test('a resume with since inside the grace period logs nothing and delivers exactly what was missed', async (t) => {
  const { ws } = await listen(t, testConfig(t, { leaveGraceMs: 1000 }));
  const room = newRoom();
  const uid = newUid();
  const alice = await connect(ws, room, { uid });
  const bob = await connect(ws, room, { uid: newUid() });
  await alice.next('join');
  const since = alice.events.at(-1)?.seq as number;
  await alice.close();
  const missed = [await bob.say('m1'), await bob.say('m2')];
  const back = await connect(ws, room, { uid, since });
  assert.deepEqual(
    back.welcome.history.map((e: Frame) => e.id),
    missed.map((m) => m.id),
  );
  assert.equal(back.welcome.seq, missed[1]?.seq);
  assert.equal(back.welcome.truncated, false);
  const live = await bob.say('m3');
  const got = await back.next('message');
  assert.equal(got.seq, live.seq, 'live delivery goes on right after the welcome');
  // a join or leave of alice would have been logged before m3
  assert.deepEqual(
    bob.unconsumed.filter((f) => f.type === 'join' || f.type === 'leave'),
    [],
  );
});

test('more than 1000 missed events: the newest 1000, truncated, and the rest over HTTP', async (t) => {
  const { ws, http, app } = await listen(t);
  const room = newRoom();
  await seedMessages(app.store, room, 1200);
  const c = await connect(ws, room, { uid: newUid(), since: 0 });
  const h = c.welcome.history as Frame[];
  assert.equal(h.length, 1000);
  assert.equal(c.welcome.truncated, true);
  assert.equal(h.at(-1)?.type, 'join', 'its own join is the last event');
  assert.equal(h[0]?.seq, 202);
  const older = await getJson(`${http}/api/rooms/${room}/messages?before=202&limit=200`);
  assert.equal(older.events.length, 200);
  assert.equal(older.events[0].seq, 2);
  const plain = await connect(ws, room, { uid: newUid() });
  assert.equal(plain.welcome.history.length, 50, 'without since: the latest 50');
  assert.equal(plain.welcome.truncated, false);
});

test('a clientMsgId retry, even after a reconnect, gets the original event and stores nothing new', async (t) => {
  const { ws, http } = await listen(t);
  const room = newRoom();
  const uid = newUid();
  const alice = await connect(ws, room, { uid });
  const bob = await connect(ws, room, { uid: newUid() });
  const original = await alice.say('once', 'cm-once');
  await alice.close();
  const again = await connect(ws, room, { uid, since: original.seq });
  const retry = await again.say('once', 'cm-once');
  assert.deepEqual(retry, original);
  const fromBob = await bob.say('bob may use the same id', 'cm-once');
  assert.notEqual(fromBob.id, original.id);
  const history = await getJson(`${http}/api/rooms/${room}/messages`);
  assert.equal(history.events.filter((e: Frame) => e.text === 'once').length, 1);
  assert.equal(bob.events.filter((e) => e.text === 'once').length, 1, 'others see it once');
});

test('rename is logged and later messages carry the new name; an invalid name is refused', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid(), name: 'Alice' });
  const bob = await connect(ws, room, { uid: newUid() });
  alice.send({ type: 'rename', name: '  Ally  ' });
  const renamed = await alice.next('rename');
  assert.deepEqual([renamed.member.name, renamed.previous], ['Ally', 'Alice']);
  assert.equal((await bob.next('rename')).member.name, 'Ally');
  assert.equal((await alice.say('hi')).from.name, 'Ally');
  alice.send({ type: 'rename', name: 'x'.repeat(33) });
  assert.equal((await alice.next('error')).code, 'invalid_name');
});

test('a name is unique among present members: NAME (2) on join, name_taken on rename, nothing logged', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid(), name: 'Alice' });
  const other = await connect(ws, room, { uid: newUid(), name: 'alice' });
  assert.equal(other.welcome.you.name, 'alice (2)');
  assert.equal((await alice.next('join')).member.name, 'alice (2)', 'the join carries the name given');
  const bob = await connect(ws, room, { uid: newUid(), name: 'Bob' });
  bob.send({ type: 'rename', name: ' ALICE ' });
  assert.equal((await bob.next('error')).code, 'name_taken');
  const marker = await bob.say('still Bob');
  assert.deepEqual([marker.seq, marker.from.name], [bob.welcome.seq + 1, 'Bob'], 'the refused rename logged nothing');
});

test("the welcome carries the topic, the owner (its seq 1 joiner) and the member's kept direct messages", async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const [aliceUid, bobUid] = [newUid(), newUid()];
  const alice = await connect(ws, room, { uid: aliceUid, name: 'Alice' });
  assert.deepEqual(
    [alice.welcome.topic, alice.welcome.roles, alice.welcome.directs],
    ['', { [alice.id]: 'owner' }, []],
  );
  const bob = await connect(ws, room, { uid: bobUid, name: 'Bob' });
  const carol = await connect(ws, room, { uid: newUid(), name: 'Carol' });
  alice.send({ type: 'direct', to: bob.id, text: 'kept for us', clientMsgId: 'k1' });
  const sent = await alice.next('direct');
  await bob.next('direct');
  const again = await connect(ws, room, { uid: bobUid });
  assert.deepEqual(again.welcome.directs, [sent], "in bob's next welcome, as sent");
  assert.deepEqual(again.welcome.roles, { [alice.id]: 'owner' });
  const carolAgain = await connect(ws, room, { uid: newUid() });
  assert.deepEqual(carolAgain.welcome.directs, [], "not in another member's");
  assert.ok(carol.welcome.history.every((e: Frame) => e.type !== 'direct'));
});

test('typing goes to the others only and takes no seq', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid(), name: 'Alice' });
  const bob = await connect(ws, room, { uid: newUid() });
  alice.send({ type: 'typing' });
  const typing = await bob.next('typing');
  assert.deepEqual(typing, { type: 'typing', room, member: alice.welcome.you });
  const m = await alice.say('after typing');
  assert.equal(m.seq, 3, 'join, join, message');
  assert.equal(
    alice.frames.some((f) => f.type === 'typing'),
    false,
  );
});

test('a direct message reaches every tab of its target and the sender, nobody else', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid() });
  const bobUid = newUid();
  const bob1 = await connect(ws, room, { uid: bobUid });
  const bob2 = await connect(ws, room, { uid: bobUid });
  const carol = await connect(ws, room, { uid: newUid() });
  alice.send({ type: 'direct', to: bob1.id, text: ' psst ', clientMsgId: 'd1' });
  const [own, b1, b2] = await Promise.all([alice.next('direct'), bob1.next('direct'), bob2.next('direct')]);
  assert.deepEqual([own.text, own.clientMsgId, own.to.id, own.from.id], ['psst', 'd1', bob1.id, alice.id]);
  assert.deepEqual(b1, own);
  assert.deepEqual(b2, own);
  assert.equal(own.seq, undefined);
  // alice's frames are handled in order: a leaked direct would reach carol before this message
  const marker = await alice.say('marker');
  await carol.next((f) => f.type === 'message' && f.id === marker.id);
  assert.equal(
    carol.frames.some((f) => f.type === 'direct'),
    false,
  );
  alice.send({ type: 'direct', to: 'nobody-here', text: 'hello?', clientMsgId: 'd2' });
  const e = await alice.next('error');
  assert.deepEqual([e.code, e.clientMsgId], ['recipient_offline', 'd2']);
});

test('more messages than the burst are refused with rate_limited and not stored', async (t) => {
  // the bucket refills only when the test moves the clock, however long each message takes to store
  const { ws, http } = await listen(t, testConfig(t), { clock: new ManualClock() });
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid() });
  const ids = Array.from({ length: 25 }, (_, i) => `burst-${i}`);
  for (const id of ids) alice.send({ type: 'message', text: id, clientMsgId: id });
  const answers = await Promise.all(ids.map((id) => alice.next((f) => f.clientMsgId === id)));
  const accepted = answers.filter((f) => f.type === 'message');
  const refused = answers.filter((f) => f.type === 'error');
  assert.equal(accepted.length, 20);
  assert.ok(refused.every((f) => f.code === 'rate_limited'));
  const history = await getJson(`${http}/api/rooms/${room}/messages`);
  assert.equal(history.events.filter((e: Frame) => e.type === 'message').length, 20);
  const bob = await connect(ws, room, { uid: newUid() });
  assert.equal((await bob.say('another member has its own bucket')).type, 'message');
});

test("a connection's answers keep the order of its frames: a refusal never overtakes the message before it", async (t) => {
  const { ws } = await listen(t);
  const room = newRoom('order');
  const a = await connect(ws, room);
  t.after(() => a.close());
  for (let round = 0; round < 5; round++) {
    // sent together, so that both are read in one turn: the message is stored, the empty one refused
    a.send({ type: 'message', text: `kept ${round}`, clientMsgId: `ok-${round}` });
    a.send({ type: 'message', text: '', clientMsgId: `bad-${round}` });
    const first = await a.next((f) => f.clientMsgId === `ok-${round}` || f.clientMsgId === `bad-${round}`);
    assert.equal(first.clientMsgId, `ok-${round}`, 'the stored message is answered first');
    assert.equal((await a.next((f) => f.clientMsgId === `bad-${round}`)).code, 'invalid_text');
  }
});
