/**
 * The benchmark's load generator against a real server: its correctness counters (nothing lost,
 * duplicated, out of order or leaked across rooms) must hold. Speed is not asserted here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadGenerator } from '../bench/lib/loadgen.js';
import { startCluster } from './cluster/harness.js';
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

const none = { lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 };
const faults = (c: { lost: number; duplicated: number; outOfOrder: number; leaked: number }) => ({
  lost: c.lost,
  duplicated: c.duplicated,
  outOfOrder: c.outOfOrder,
  leaked: c.leaked,
});

test('slow readers: receivers that stop reading in bursts still get every message once, in order', async (t) => {
  const { ws } = await listen(t, testConfig(t, unlimited));
  const lg = new LoadGenerator(ws, 1, 50);
  t.after(() => lg.close());
  await lg.connect();
  const stop = lg.readInBursts(40, 20);
  await lg.offer([lg.members[0] as LoadGenerator['members'][0]], 200, 1000);
  stop();
  const counters = await lg.settle();
  assert.deepEqual(faults(counters), none);
  assert.equal(counters.delivered, 200 * 50);
});

test('a storm of joins from several source addresses: every member is welcomed, then hears its room', async (t) => {
  const { ws } = await listen(t, testConfig(t, unlimited));
  const lg = new LoadGenerator(ws, 4, 50);
  lg.localAddresses = ['127.0.0.2', '127.0.0.3'];
  t.after(() => lg.close());
  await lg.storm(100);
  assert.equal(lg.welcomeMs.length, 200, 'a welcome for each of the 200');
  const firstOfEachRoom = lg.members.filter((m) => m.index === 0);
  await lg.offer(firstOfEachRoom, 40, 500);
  const counters = await lg.settle();
  assert.deepEqual(faults(counters), none);
  assert.equal(counters.delivered, 20 * 50, 'each room has 5 of the 20 messages, for its 50 members');
});

test('cluster: members of one room on two instances get every message once, in order, and no other room', async (t) => {
  const instances = await startCluster(t, {
    instances: 2,
    env: { RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000' },
  });
  const lg = new LoadGenerator(
    instances.map((i) => i.ws),
    4,
    10,
  );
  t.after(() => lg.close());
  await lg.connect();
  await lg.offer(lg.members, 200, 1000);
  const counters = await lg.settle(10_000);
  assert.deepEqual(faults(counters), none);
  assert.equal(counters.delivered, 200 * 10);
});
