/**
 * Protocol v2 on the server, handler by handler (PROTOCOL.md v2): replies and mentions, edits,
 * deletion (erased on disk too), reactions, topic, roles and kicks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { ManualClock } from './clock.js';
import { type Client, connect, type Frame, listen, newRoom, newUid, tempDir, testConfig } from './helpers.js';

/** Send a frame and wait for the event it logs (matched by type) or an error. */
async function act(client: Client, frame: Record<string, unknown>, type: string): Promise<Frame> {
  client.send(frame);
  return client.next((f) => f.type === 'error' || (f.type === type && (f.from ?? f.by)?.id === client.id));
}

/** A room with its owner (the first to join) and two members. */
async function room(ws: string) {
  const name = newRoom('v2');
  const owner = await connect(ws, name, { uid: newUid(), name: 'Owner' });
  const alice = await connect(ws, name, { uid: newUid(), name: 'Alice' });
  const bob = await connect(ws, name, { uid: newUid(), name: 'Bob' });
  return { name, owner, alice, bob };
}

test('a reply carries the Quote of a live message; unknown or deleted ones are not_found', async (t) => {
  const { ws } = await listen(t);
  const { alice, bob } = await room(ws);
  const long = 'x'.repeat(150) + '語'.repeat(100);
  const original = await alice.say(long);
  bob.send({ type: 'message', text: 'answer', clientMsgId: 'r1', replyTo: original.id });
  const reply = await bob.next((f) => f.clientMsgId === 'r1');
  assert.deepEqual(reply.replyTo, {
    id: original.id,
    from: original.from,
    text: `${'x'.repeat(150)}${'語'.repeat(50)}`,
  });
  bob.send({ type: 'message', text: 'to nothing', clientMsgId: 'r2', replyTo: 'no-such-id' });
  assert.deepEqual((await bob.next((f) => f.clientMsgId === 'r2')).code, 'not_found');
  assert.equal((await act(alice, { type: 'delete', id: original.id }, 'delete')).type, 'delete');
  bob.send({ type: 'message', text: 'too late', clientMsgId: 'r3', replyTo: original.id });
  assert.equal((await bob.next((f) => f.clientMsgId === 'r3')).code, 'not_found');
});

test('a text or topic that is not valid Unicode is refused', async (t) => {
  const { ws } = await listen(t);
  const { owner } = await room(ws);
  owner.send('{"type":"message","text":"a\\ud800b","clientMsgId":"s1"}');
  assert.equal((await owner.next((f) => f.clientMsgId === 's1')).code, 'invalid_text');
  assert.equal((await act(owner, { type: 'topic', text: 'a\u0000b' }, 'topic')).code, 'bad_request');
});

test('mentions keep members who ever joined, in order, once; the rest are dropped', async (t) => {
  const { ws } = await listen(t);
  const { alice, bob, owner } = await room(ws);
  const ids = [bob.id, 'stranger', owner.id, bob.id];
  alice.send({ type: 'message', text: 'hey', clientMsgId: 'm1', mentions: ids });
  assert.deepEqual((await alice.next((f) => f.clientMsgId === 'm1')).mentions, [bob.id, owner.id]);
  alice.send({ type: 'message', text: 'nobody', clientMsgId: 'm2', mentions: ['stranger'] });
  assert.equal((await alice.next((f) => f.clientMsgId === 'm2')).mentions, undefined, 'absent when none remain');
  alice.send({
    type: 'message',
    text: 'many',
    clientMsgId: 'm3',
    mentions: Array.from({ length: 21 }, (_, i) => `m${i}`),
  });
  assert.equal((await alice.next((f) => f.clientMsgId === 'm3')).code, 'bad_request');
});

test('only the author edits; the same text logs nothing; reads show the latest text and edited', async (t) => {
  const { ws, http } = await listen(t);
  const { name, owner, alice } = await room(ws);
  const m = await alice.say('helo');
  assert.equal((await act(owner, { type: 'edit', id: m.id, text: 'hello' }, 'edit')).code, 'forbidden');
  assert.equal((await act(alice, { type: 'edit', id: 'nope', text: 'hello' }, 'edit')).code, 'not_found');
  alice.send({ type: 'edit', id: m.id, text: ' helo ' }); // the same after trim: nothing at all
  const e = await act(alice, { type: 'edit', id: m.id, text: 'hello', clientMsgId: 'e1' }, 'edit');
  assert.deepEqual([e.type, e.text, e.clientMsgId, e.seq], ['edit', 'hello', 'e1', m.seq + 1], 'the no-op took no seq');
  const page = (await (await fetch(`${http}/api/rooms/${name}/messages`)).json()) as { events: Frame[] };
  const now = page.events.find((x) => x.id === m.id && x.type === 'message');
  assert.deepEqual([now?.text, now?.edited], ['hello', e.ts]);
});

test('the author, the owner and a moderator delete; others are forbidden; the text leaves the file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'chat.db');
  const { ws } = await listen(t, testConfig(t, { sqlitePath: path }), { store: new SqliteStore({ path }) });
  const { owner, alice, bob } = await room(ws);
  const secret = `secret-${newUid()}`;
  const m1 = await alice.say(`my ${secret} text`);
  assert.equal((await act(bob, { type: 'delete', id: m1.id }, 'delete')).code, 'forbidden');
  assert.equal((await act(owner, { type: 'role', member: bob.id, role: 'moderator' }, 'role')).type, 'role');
  const d = await act(bob, { type: 'delete', id: m1.id }, 'delete');
  assert.deepEqual([d.type, d.id, d.by.id], ['delete', m1.id, bob.id]);
  assert.equal((await act(alice, { type: 'delete', id: m1.id }, 'delete')).code, 'not_found', 'deleted already');
  const m2 = await bob.say('mine');
  assert.equal((await act(bob, { type: 'delete', id: m2.id }, 'delete')).type, 'delete', "the author's own");
  const later = await connect(ws, owner.welcome.room, { uid: newUid(), since: 0 });
  const shown = later.welcome.history.find((x: Frame) => x.id === m1.id && x.type === 'message');
  assert.deepEqual([shown.text, shown.deleted], ['', true]);
  // secure_delete: the erased text is not left in a free part of the database or its log
  const bytes = [path, `${path}-wal`].map((p) => {
    try {
      return readFileSync(p).toString('latin1');
    } catch {
      return '';
    }
  });
  assert.equal(bytes.join('').includes(secret), false, 'the text is nowhere in the files');
});

test('reactions: one emoji per react, on and off, no-ops log nothing, at most 20 emoji; reads aggregate', async (t) => {
  const { ws, http } = await listen(t, testConfig(t, { rateLimitBurst: 100 }));
  const { name, alice, bob } = await room(ws);
  const m = await alice.say('react to me');
  const react = (c: Client, emoji: string, on = true) => act(c, { type: 'react', id: m.id, emoji, on }, 'react');
  for (const bad of ['a', '👍👍', ':)', '']) assert.equal((await react(bob, bad)).code, 'bad_request', bad);
  const first = await react(bob, '👍');
  alice.send({ type: 'react', id: m.id, emoji: '👍', on: false }); // alice has none: nothing
  await react(alice, '🎉');
  await react(alice, '👍');
  await react(bob, '👍', false);
  const marker = await alice.say('marker');
  assert.equal(marker.seq, first.seq + 4, 'the no-op took no seq');
  const page = (await (await fetch(`${http}/api/rooms/${name}/messages`)).json()) as { events: Frame[] };
  const shown = page.events.find((x) => x.id === m.id && x.type === 'message');
  assert.deepEqual(shown?.reactions, [
    { emoji: '👍', members: [alice.id] },
    { emoji: '🎉', members: [alice.id] },
  ]);
  const many = [
    '😀',
    '😁',
    '😂',
    '🤣',
    '😃',
    '😄',
    '😅',
    '😆',
    '😉',
    '😊',
    '😋',
    '😎',
    '😍',
    '😘',
    '🥰',
    '😗',
    '😙',
    '😚',
  ];
  for (const e of many) await react(bob, e);
  assert.equal((await react(bob, '🙂')).code, 'bad_request', 'a 21st emoji');
  assert.equal((await react(alice, '😀')).type, 'react', 'the 20 already there still work');
});

test('topic by the owner and moderators; roles by the owner only; the welcome carries both', async (t) => {
  const { ws } = await listen(t);
  const { name, owner, alice, bob } = await room(ws);
  assert.equal((await act(alice, { type: 'topic', text: 'mine' }, 'topic')).code, 'forbidden');
  assert.equal((await act(owner, { type: 'topic', text: `  ${'t'.repeat(200)}  ` }, 'topic')).text, 't'.repeat(200));
  assert.equal((await act(owner, { type: 'topic', text: 't'.repeat(201) }, 'topic')).code, 'bad_request');
  assert.equal((await act(alice, { type: 'role', member: bob.id, role: 'moderator' }, 'role')).code, 'forbidden');
  assert.equal((await act(owner, { type: 'role', member: owner.id, role: 'member' }, 'role')).code, 'forbidden');
  await act(owner, { type: 'role', member: alice.id, role: 'moderator' }, 'role');
  assert.equal((await act(alice, { type: 'topic', text: '' }, 'topic')).text, '', 'a moderator clears it');
  const later = await connect(ws, name, { uid: newUid() });
  assert.deepEqual([later.welcome.topic, later.welcome.roles], ['', { [owner.id]: 'owner', [alice.id]: 'moderator' }]);
});

/** A handshake's first frame and close code, without waiting for a welcome. */
function handshake(url: string): Promise<{ first: Frame | null; code: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    let first: Frame | null = null;
    socket.on('message', (data) => {
      first ??= JSON.parse(String(data));
    });
    socket.on('close', (code) => resolve({ first, code }));
  });
}

test('a kick reaches every tab, closes the kicked member with 4003 and bans its handshakes until until', async (t) => {
  const clock = new ManualClock();
  const { ws } = await listen(t, testConfig(t), { clock });
  const { name, owner, alice } = await room(ws);
  const uid = newUid();
  const x1 = await connect(ws, name, { uid, name: 'Xavier' });
  const x2 = await connect(ws, name, { uid });
  assert.equal((await act(alice, { type: 'kick', member: x1.id, minutes: 1 }, 'kick')).code, 'forbidden');
  const k = await act(owner, { type: 'kick', member: x1.id, minutes: 5 }, 'kick');
  assert.equal(Date.parse(k.until) - Date.parse(k.ts), 5 * 60_000);
  for (const x of [x1, x2]) {
    assert.equal((await x.next('kick')).seq, k.seq, 'the kicked member gets the event');
    assert.equal((await x.closed).code, 4003);
  }
  const url = `${ws}/ws?room=${name}&uid=${uid}`;
  const banned = await handshake(url);
  assert.deepEqual(
    [banned.first?.type, banned.first?.code, banned.first?.until, banned.code],
    ['error', 'banned', k.until, 4003],
  );
  clock.advance(5 * 60_000 - 1);
  assert.equal((await handshake(url)).code, 4003, 'still banned a millisecond before until');
  clock.advance(1);
  const back = await connect(ws, name, { uid });
  assert.equal(back.id, x1.id, 'back after until');
});
