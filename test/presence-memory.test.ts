import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryPresence } from '../src/chat/presence/memory.js';
import type { Member } from '../src/chat/protocol.js';
import { sleep } from './helpers.js';

function setup(leaveGraceMs = 30) {
  const left: Array<[string, Member]> = [];
  const presence = new MemoryPresence({ leaveGraceMs, onLeave: (room, member) => left.push([room, member]) });
  return { presence, left };
}

test('a member enters with its first connection and leaves after the grace period of its last', async (t) => {
  const { presence, left } = setup();
  t.after(() => presence.close());
  assert.equal(presence.connect('r', { id: 'a', name: 'Alice' }).entered, true);
  assert.equal(presence.connect('r', { id: 'a', name: 'Other tab' }).entered, false, 'a second tab is the same member');
  assert.equal(presence.get('r', 'a')?.name, 'Alice', 'the member keeps its name');
  presence.disconnect('r', 'a');
  await sleep(60);
  assert.deepEqual(left, [], 'one tab is still open');
  presence.disconnect('r', 'a');
  assert.equal(presence.online('r', 'a'), undefined);
  assert.deepEqual(presence.members('r'), [{ id: 'a', name: 'Alice' }], 'still a member during the grace period');
  await sleep(60);
  assert.deepEqual(left, [['r', { id: 'a', name: 'Alice' }]]);
  assert.deepEqual(presence.members('r'), []);
});

test('a reconnect inside the grace period is no leave and no join', async (t) => {
  const { presence, left } = setup();
  t.after(() => presence.close());
  presence.connect('r', { id: 'a', name: 'A' });
  presence.disconnect('r', 'a');
  await sleep(10);
  assert.equal(presence.connect('r', { id: 'a', name: 'A' }).entered, false);
  await sleep(60);
  assert.deepEqual(left, []);
});

test('members the log shows present are restored in their grace period', async (t) => {
  const { presence, left } = setup();
  t.after(() => presence.close());
  presence.connect('r', { id: 'a', name: 'A' });
  presence.restore('r', [
    { id: 'a', name: 'stale name' },
    { id: 'b', name: 'B' },
    { id: 'c', name: 'C' },
  ]);
  assert.equal(presence.get('r', 'a')?.name, 'A', 'a live member is untouched');
  assert.equal(presence.connect('r', { id: 'b', name: 'B' }).entered, false, 'b came back in time');
  await sleep(60);
  assert.deepEqual(
    left.map(([, m]) => m.id),
    ['c'],
    'c never came back',
  );
});

test('members are per room', (t) => {
  const { presence } = setup();
  t.after(() => presence.close());
  presence.connect('r1', { id: 'a', name: 'A' });
  assert.equal(presence.connect('r2', { id: 'a', name: 'A' }).entered, true);
  assert.equal(presence.memberCount, 2);
  assert.equal(presence.roomCount, 2);
});
