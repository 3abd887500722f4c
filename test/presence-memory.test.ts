import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryPresence } from '../src/chat/presence/memory.js';
import type { Member } from '../src/chat/protocol.js';
import { ManualClock } from './clock.js';
import { presenceContract } from './presence.contract.js';

function setup(leaveGraceMs: number) {
  const clock = new ManualClock();
  const leaves: Array<[string, Member]> = [];
  const presence = new MemoryPresence({ leaveGraceMs, clock, onLeave: (room, member) => leaves.push([room, member]) });
  return { presence, clock, leaves };
}

presenceContract('MemoryPresence', async (leaveGraceMs) => {
  const { presence, clock, leaves } = setup(leaveGraceMs);
  return {
    presence,
    clock,
    leaves,
    advance: async (ms) => clock.advance(ms),
    cleanup: async () => presence.close(),
  };
});

test('MemoryPresence: members the log shows present are restored in their grace period', (t) => {
  const { presence, clock, leaves } = setup(1000);
  t.after(() => presence.close());
  presence.connect('r', { id: 'a', name: 'A' });
  presence.restore('r', [
    { id: 'a', name: 'stale name' },
    { id: 'b', name: 'B' },
    { id: 'c', name: 'C' },
  ]);
  assert.equal(presence.get('r', 'a')?.name, 'A', 'a live member is untouched');
  assert.equal(presence.online('r', 'c'), undefined, 'restored members are not online');
  assert.equal(presence.members('r').length, 3, 'but they are members');
  clock.advance(999);
  assert.equal(presence.connect('r', { id: 'b', name: 'B' }).entered, false, 'b came back in time');
  assert.deepEqual(leaves, []);
  clock.advance(1);
  assert.deepEqual(leaves, [['r', { id: 'c', name: 'C' }]], 'c never came back');
  assert.deepEqual(
    presence.members('r').map((m) => m.id),
    ['a', 'b'],
  );
});
