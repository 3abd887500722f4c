/**
 * The PresenceTracker contract: every implementation runs these tests (see presence-*.test.ts).
 * Time moves only through `advance`, so a grace period is checked to the millisecond.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { PresenceTracker } from '../src/chat/presence/presence.js';
import type { Member } from '../src/chat/protocol.js';
import type { ManualClock } from './clock.js';

export interface PresenceHarness {
  presence: PresenceTracker;
  /** The clock the presence was built with. */
  clock: ManualClock;
  /** Every onLeave call so far, in order. */
  leaves: Array<[room: string, member: Member]>;
  /** Move the clock by `ms`, then let the presence take every leave that fell due. */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** A fresh presence with this leave grace period, on a clock of its own. */
export type PresenceFactory = (leaveGraceMs: number) => Promise<PresenceHarness>;

const GRACE = 1000;
const alice = { id: 'alice', name: 'Alice' };
const bob = { id: 'bob', name: 'Bob' };
const byId = (members: Member[]) => [...members].sort((a, b) => a.id.localeCompare(b.id));

export function presenceContract(name: string, make: PresenceFactory): void {
  const open = async (t: TestContext) => {
    const harness = await make(GRACE);
    t.after(() => harness.cleanup());
    return harness;
  };

  test(`${name}: the first connection enters; a second tab does not, and keeps the member's name`, async (t) => {
    const { presence } = await open(t);
    const first = await presence.connect('r', alice);
    assert.equal(first.entered, true);
    assert.deepEqual(first.member, alice);
    const second = await presence.connect('r', { id: 'alice', name: 'Other tab' });
    assert.equal(second.entered, false, 'a second tab is the same member');
    assert.equal(second.member.name, 'Alice', 'an existing member keeps its name');
    assert.equal(second.member, first.member, 'local tabs share one member object');
    assert.deepEqual(await presence.members('r'), [alice]);
  });

  test(`${name}: members are per room`, async (t) => {
    const { presence } = await open(t);
    await presence.connect('r1', alice);
    assert.equal((await presence.connect('r2', alice)).entered, true);
    await presence.connect('r1', bob);
    assert.deepEqual(byId(await presence.members('r1')), [alice, bob]);
    assert.deepEqual(await presence.members('r2'), [alice]);
    assert.deepEqual(await presence.members('elsewhere'), []);
  });

  test(`${name}: closing one of two tabs is no leave`, async (t) => {
    const { presence, leaves, advance } = await open(t);
    await presence.connect('r', alice);
    await presence.connect('r', alice);
    await presence.disconnect('r', 'alice');
    await advance(GRACE * 3);
    assert.deepEqual(leaves, []);
    assert.deepEqual(await presence.online('r', 'alice'), alice);
    assert.deepEqual(await presence.members('r'), [alice]);
  });

  test(`${name}: the last tab's close starts the grace period; the leave comes once, at its end`, async (t) => {
    const { presence, leaves, advance } = await open(t);
    await presence.connect('r', alice);
    await presence.connect('r', bob);
    await advance(500);
    await presence.disconnect('r', 'alice');
    assert.deepEqual(byId(await presence.members('r')), [alice, bob], 'a member in its grace period is still in');
    await advance(GRACE - 1);
    assert.deepEqual(leaves, [], 'not before the grace period is over');
    assert.deepEqual(byId(await presence.members('r')), [alice, bob]);
    await advance(1);
    assert.deepEqual(leaves, [['r', alice]]);
    assert.deepEqual(await presence.members('r'), [bob]);
    await advance(GRACE * 3);
    assert.deepEqual(leaves, [['r', alice]], 'exactly once');
  });

  test(`${name}: a reconnect inside the grace period cancels the leave; the next close starts it afresh`, async (t) => {
    const { presence, leaves, advance } = await open(t);
    await presence.connect('r', alice);
    await presence.disconnect('r', 'alice');
    await advance(GRACE - 1);
    assert.equal((await presence.connect('r', alice)).entered, false, 'no new join');
    await advance(GRACE * 3);
    assert.deepEqual(leaves, [], 'no leave');
    assert.deepEqual(await presence.online('r', 'alice'), alice);
    await presence.disconnect('r', 'alice');
    await advance(GRACE - 1);
    assert.deepEqual(leaves, []);
    await advance(1);
    assert.deepEqual(leaves, [['r', alice]]);
  });

  test(`${name}: a member entering with a present member's name gets the first free "NAME (k)"`, async (t) => {
    const { presence } = await open(t);
    const entered = async (id: string, name: string) => (await presence.connect('r', { id, name })).member.name;
    assert.equal(await entered('a1', 'Alice'), 'Alice');
    assert.equal(await entered('a2', 'ALICE'), 'ALICE (2)', 'names compare in lower case');
    assert.equal(await entered('a3', 'Alice (2)'), 'Alice (2) (2)', 'a suffixed name is a name like any other');
    assert.equal(await entered('a4', 'alice'), 'alice (3)');
    assert.equal(await entered('a1', 'Something else'), 'Alice', 'a second tab keeps the name');
    assert.equal((await presence.connect('other', { id: 'b', name: 'Alice' })).member.name, 'Alice', 'per room');
    const long = '山'.repeat(32);
    assert.equal(await entered('l1', long), long);
    assert.equal(await entered('l2', long), `${'山'.repeat(28)} (2)`, 'cut to fit 32 characters');
  });

  test(`${name}: a name is free again once its holder left; a rename claims a free name only`, async (t) => {
    const { presence, advance } = await open(t);
    await presence.connect('r', alice);
    await presence.connect('r', bob);
    assert.equal(await presence.rename('r', { id: 'bob', name: 'alice' }), false, "another present member's name");
    assert.deepEqual(byId(await presence.members('r')), [alice, bob], 'nothing changed');
    assert.equal(await presence.rename('r', { id: 'bob', name: 'BOB' }), true, 'its own name in another case');
    assert.equal(await presence.rename('r', { id: 'bob', name: 'Robert' }), true);
    assert.equal((await presence.connect('r', { id: 'b2', name: 'bob' })).member.name, 'bob', 'BOB was given up');
    await presence.disconnect('r', 'alice');
    assert.equal(
      await presence.rename('r', { id: 'b2', name: 'Alice' }),
      false,
      'in its grace period it holds the name',
    );
    await advance(GRACE);
    assert.equal(await presence.rename('r', { id: 'b2', name: 'Alice' }), true, 'free once alice left');
    assert.equal((await presence.connect('r', alice)).member.name, 'Alice (2)', 'alice comes back to a taken name');
  });

  test(`${name}: has() is true from connect until the leave, grace period included`, async (t) => {
    const { presence, advance } = await open(t);
    assert.equal(await presence.has('r', 'alice'), false, 'never seen');
    await presence.connect('r', alice);
    assert.equal(await presence.has('r', 'alice'), true);
    assert.equal(await presence.has('elsewhere', 'alice'), false, 'another room');
    await presence.disconnect('r', 'alice');
    assert.equal(await presence.has('r', 'alice'), true, 'in its grace period');
    await advance(GRACE);
    assert.equal(await presence.has('r', 'alice'), false, 'left');
  });

  test(`${name}: online() is false for a member in its grace period and for one never seen`, async (t) => {
    const { presence } = await open(t);
    await presence.connect('r', alice);
    assert.deepEqual(await presence.online('r', 'alice'), alice);
    await presence.disconnect('r', 'alice');
    assert.equal(await presence.online('r', 'alice'), undefined, 'in its grace period');
    assert.equal(await presence.online('r', 'nobody'), undefined);
    assert.equal(await presence.online('elsewhere', 'alice'), undefined, 'another room');
    await presence.disconnect('r', 'nobody'); // never connected: nothing to do
  });

  test(`${name}: a rename is what members(), online() and the leave report from then on`, async (t) => {
    const { presence, leaves, advance } = await open(t);
    const { member } = await presence.connect('r', alice);
    assert.equal(await presence.rename('r', { id: 'alice', name: 'Alicia' }), true);
    assert.deepEqual(await presence.members('r'), [{ id: 'alice', name: 'Alicia' }]);
    assert.deepEqual(await presence.online('r', 'alice'), { id: 'alice', name: 'Alicia' });
    assert.equal(member.name, 'Alicia', 'local tabs share the renamed member');
    await presence.disconnect('r', 'alice');
    assert.equal(await presence.rename('r', { id: 'alice', name: 'Ali' }), true);
    assert.deepEqual(await presence.members('r'), [{ id: 'alice', name: 'Ali' }], 'renamed in its grace period');
    assert.equal(await presence.rename('r', { id: 'nobody', name: 'Ghost' }), false);
    assert.deepEqual(await presence.members('r'), [{ id: 'alice', name: 'Ali' }], 'a stranger is not added');
    await advance(GRACE);
    assert.deepEqual(leaves, [['r', { id: 'alice', name: 'Ali' }]]);
  });

  test(`${name}: memberCount and roomCount count the members connected here`, async (t) => {
    const { presence, advance } = await open(t);
    assert.deepEqual([presence.memberCount, presence.roomCount], [0, 0]);
    await presence.connect('r1', alice);
    await presence.connect('r1', alice);
    await presence.connect('r1', bob);
    await presence.connect('r2', alice);
    assert.deepEqual([presence.memberCount, presence.roomCount], [3, 2]);
    for (const [room, id] of [
      ['r1', 'alice'],
      ['r1', 'alice'],
      ['r1', 'bob'],
      ['r2', 'alice'],
    ] as const) {
      await presence.disconnect(room, id);
    }
    await advance(GRACE);
    assert.deepEqual([presence.memberCount, presence.roomCount], [0, 0]);
  });

  test(`${name}: close() stops the leaves still to come and every timer`, async (t) => {
    const { presence, clock, leaves, advance } = await open(t);
    await presence.connect('r', alice);
    await presence.connect('r', bob);
    await presence.disconnect('r', 'alice');
    await presence.close();
    assert.equal(clock.pending, 0, 'no timer left');
    await advance(GRACE * 3);
    assert.deepEqual(leaves, []);
  });
}
