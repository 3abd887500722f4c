import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBus } from '../src/chat/bus/redis.js';
import { until } from './helpers.js';
import { messageBusContract } from './message-bus.contract.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

function connections(t: TestContext, name: string) {
  const publisher = new Redis(TEST_REDIS_URL, { connectionName: name });
  const subscriber = new Redis(TEST_REDIS_URL, { connectionName: `${name}-sub` });
  t.after(() => {
    publisher.disconnect();
    subscriber.disconnect();
  });
  return { publisher, subscriber };
}

const ready = (redis: Redis) =>
  redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()));

messageBusContract('RedisBus', {
  async pair(t) {
    const prefix = testPrefix();
    const conns = [0, 1, 2].map((i) => connections(t, `bus-${i}`));
    await Promise.all(conns.flatMap((c) => [ready(c.publisher), ready(c.subscriber)]));
    const buses = conns.map((c) => new RedisBus({ ...c, prefix }));
    t.after(() => Promise.all(buses.map((b) => b.close())));
    return buses as [RedisBus, RedisBus, RedisBus];
  },
});

test('RedisBus: a room not watched is not received; another prefix is another deployment', async (t) => {
  const prefix = testPrefix();
  const otherPrefix = testPrefix();
  const a = new RedisBus({ ...connections(t, 'a'), prefix });
  const b = new RedisBus({ ...connections(t, 'b'), prefix });
  const other = new RedisBus({ ...connections(t, 'c'), prefix: otherPrefix });
  const otherPublisher = new RedisBus({ ...connections(t, 'd'), prefix: otherPrefix });
  const got: string[] = [];
  const gotOther: string[] = [];
  b.subscribe({ deliver: (m) => got.push(m.room), resync: () => {} });
  other.subscribe({ deliver: (m) => gotOther.push(m.room), resync: () => {} });
  await Promise.all([b.watch('watched'), b.watch('marker'), other.watch('watched'), other.watch('marker')]);
  await a.publish({ kind: 'ephemeral', room: 'not-watched', json: '{}' });
  await a.publish({ kind: 'ephemeral', room: 'watched', json: '{}' });
  await until(() => got.length === 1);
  await b.unwatch('watched');
  await a.publish({ kind: 'ephemeral', room: 'watched', json: '{}' });
  // Redis hands messages to a subscriber in the order it ran the PUBLISH commands: the markers
  // come after anything the two publishes above could have delivered
  await a.publish({ kind: 'ephemeral', room: 'marker', json: '{}' });
  await otherPublisher.publish({ kind: 'ephemeral', room: 'marker', json: '{}' });
  await until(() => got.length === 2 && gotOther.length === 1);
  assert.deepEqual(got, ['watched', 'marker']);
  assert.deepEqual(gotOther, ['marker']);
});

test('RedisBus: after its subscriber reconnects the bus asks for a resync and still receives', async (t) => {
  const prefix = testPrefix();
  const name = `resync-${Math.random().toString(36).slice(2)}`;
  const a = new RedisBus({ ...connections(t, 'pub'), prefix });
  const b = new RedisBus({ ...connections(t, name), prefix });
  let resyncs = 0;
  const got: number[] = [];
  b.subscribe({
    deliver: (m) => {
      if (m.kind === 'event') got.push(m.event.seq);
    },
    resync: () => resyncs++,
  });
  await b.watch('r');
  const admin = new Redis(TEST_REDIS_URL);
  t.after(() => admin.disconnect());
  await admin.client('KILL', 'TYPE', 'pubsub');
  await until(() => resyncs === 1, 5000);
  await a.publish({ kind: 'event', room: 'r', event: { seq: 7, json: '{}' } });
  await until(() => got.length === 1);
  assert.deepEqual(got, [7]);
});
