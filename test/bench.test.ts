/**
 * The benchmark's load generator against a real server: its correctness counters (nothing lost,
 * duplicated, out of order or leaked across rooms) must hold. Speed is not asserted here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadGenerator } from '../bench/lib/loadgen.js';
import { listen, testConfig } from './helpers.js';

const unlimited = { rateLimitPerSec: 1_000_000, rateLimitBurst: 1_000_000 };

test('fan-out: one sender to a room of 200, every message reaches every member once, in order', async (t) => {
  const { ws } = await listen(t, testConfig(t, unlimited));
  const lg = new LoadGenerator(ws, 1, 200);
  t.after(() => lg.close());
  await lg.connect();
  lg.record();
  await lg.offer([lg.members[0] as LoadGenerator['members'][0]], 100, 1000);
  const counters = await lg.settle();
  assert.deepEqual(
    { lost: counters.lost, duplicated: counters.duplicated, outOfOrder: counters.outOfOrder, leaked: counters.leaked },
    { lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 },
  );
  assert.equal(counters.delivered, 100 * 200, 'each of the 100 messages to each of the 200 members');
  assert.ok(lg.stopRecording().p99 > 0, 'latencies were measured');
});

test('rooms: 20 rooms of 5 members all sending; nothing crosses rooms, nothing is lost', async (t) => {
  const { ws } = await listen(t, testConfig(t, unlimited));
  const lg = new LoadGenerator(ws, 20, 5);
  t.after(() => lg.close());
  await lg.connect();
  await lg.offer(lg.members, 500, 1000);
  const counters = await lg.settle();
  assert.deepEqual(
    { lost: counters.lost, duplicated: counters.duplicated, outOfOrder: counters.outOfOrder, leaked: counters.leaked },
    { lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 },
  );
  assert.equal(counters.delivered, 500 * 5);
});

test('the load generator notices a message delivered to the wrong room', async (t) => {
  const { ws } = await listen(t, testConfig(t, unlimited));
  const lg = new LoadGenerator(ws, 2, 1);
  t.after(() => lg.close());
  await lg.connect();
  const [a] = lg.members as [LoadGenerator['members'][0]];
  // a member of room 0 claims to be from room 1: the receiver must count it as a leak
  a.ws.send(`{"type":"message","text":"b|1|0|0|${performance.now()}"}`);
  const end = Date.now() + 2000;
  while (lg.counters.leaked === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(lg.counters.leaked, 1);
});
