/**
 * The memory reclaimer: a full collection after a burst of connections, once they stop opening.
 * The clock is the test's own; the collection is counted, and a real one is run once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullCollection, MemoryReclaimer } from '../src/memory-reclaimer.js';
import { ManualClock } from './clock.js';

function setup(burst = 3, quietMs = 1000) {
  const clock = new ManualClock();
  let collections = 0;
  const reports: number[] = [];
  const reclaimer = new MemoryReclaimer({
    clock,
    burst,
    quietMs,
    collect: () => collections++,
    onCollected: ({ ms }) => reports.push(ms),
  });
  return { clock, reclaimer, collections: () => collections, reports };
}

test('a burst of connections is followed by one collection once none has opened for the quiet time', () => {
  const { clock, reclaimer, collections, reports } = setup();
  for (let i = 0; i < 5; i++) reclaimer.opened();
  clock.advance(999);
  assert.equal(collections(), 0, 'not before the quiet time');
  clock.advance(1);
  assert.equal(collections(), 1);
  assert.equal(reports.length, 1, 'reported for the log');
  clock.advance(60_000);
  assert.equal(collections(), 1, 'once per burst');
});

test('connections that keep opening push the collection back; fewer than a burst never cause one', () => {
  const { clock, reclaimer, collections } = setup();
  reclaimer.opened();
  reclaimer.opened();
  clock.advance(5000);
  assert.equal(collections(), 0, 'two connections are not a burst');
  reclaimer.opened(); // the third: a burst
  clock.advance(600);
  reclaimer.opened();
  clock.advance(600);
  assert.equal(collections(), 0, 'a connection opened 600 ms ago: not quiet yet');
  clock.advance(400);
  assert.equal(collections(), 1);
  reclaimer.opened();
  clock.advance(5000);
  assert.equal(collections(), 1, 'the next burst starts counting from zero');
});

test('closing calls off a pending collection', () => {
  const { clock, reclaimer, collections } = setup();
  for (let i = 0; i < 3; i++) reclaimer.opened();
  reclaimer.close();
  clock.advance(5000);
  assert.equal(collections(), 0);
});

test('fullCollection gives a working full garbage collection', async () => {
  const collect = fullCollection();
  const unreachable = new WeakRef({ garbage: 'x'.repeat(1000) });
  // a WeakRef (and each deref) holds its target until the current job ends
  const nextJob = () => new Promise((resolve) => setImmediate(resolve));
  await nextJob();
  assert.notEqual(unreachable.deref(), undefined, 'nothing collected it yet');
  await nextJob();
  collect();
  await nextJob();
  assert.equal(unreachable.deref(), undefined, 'gone after the collection');
});
