import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisConnectionCap, type RedisConnectionCapOptions } from '../src/chat/address/redis.js';
import { instancesKey } from '../src/chat/presence/redis.js';
import { ManualClock } from './clock.js';
import { connectionCapContract } from './connection-cap.contract.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

const ready = (redis: Redis) =>
  redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()));

async function connect(t: TestContext | null, url = TEST_REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  t?.after(() => redis.disconnect());
  await ready(redis);
  return redis;
}

/** Instances of one deployment on a manual clock; `alive` writes an instance's heartbeat as the presence would. */
function deployment(max: number) {
  const prefix = testPrefix();
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const options = (redis: Redis, instanceId: string): RedisConnectionCapOptions => ({
    redis,
    instanceId,
    instancesKey: instancesKey(prefix),
    prefix,
    max,
    clock,
    onError: (err) => errors.push(err),
  });
  const alive = (redis: Redis, instanceId: string, forMs: number) =>
    redis.zadd(instancesKey(prefix), clock.now() + forMs, instanceId);
  return { prefix, clock, errors, options, alive };
}

connectionCapContract('RedisConnectionCap', async (max) => {
  const redis = await connect(null);
  const { options, errors } = deployment(max);
  return {
    cap: new RedisConnectionCap(options(redis, 'i1')),
    cleanup: () => {
      redis.disconnect();
      assert.deepEqual(errors, [], 'every call went to Redis');
    },
  };
});

test('RedisConnectionCap: instances share the cap; a dead instance stops counting', async (t) => {
  const [ra, rb] = await Promise.all([connect(t), connect(t)]);
  const { options, alive, clock, errors } = deployment(4);
  const a = new RedisConnectionCap(options(ra, 'a'));
  const b = new RedisConnectionCap(options(rb, 'b'));
  await alive(ra, 'a', 10_000);
  await alive(rb, 'b', 1_000);
  assert.deepEqual(
    [await a.acquire('x'), await b.acquire('x'), await a.acquire('x'), await b.acquire('x')],
    [true, true, true, true],
  );
  assert.equal(await a.acquire('x'), false, 'four over both instances');
  b.release('x');
  assert.equal(await a.acquire('x'), true, 'a release on one instance frees a place on the other');
  assert.equal(await a.acquire('x'), false);
  clock.advance(1_001); // b's heartbeat expired: its connection no longer counts
  assert.equal(await a.acquire('x'), true);
  assert.deepEqual(errors, []);
});

test('RedisConnectionCap: while Redis fails, this instance counts alone and reports each failure', async (t) => {
  const redis = await connect(t);
  const { options, errors } = deployment(2);
  const cap = new RedisConnectionCap(options(redis, 'a'));
  assert.equal(await cap.acquire('x'), true);
  redis.disconnect();
  assert.deepEqual([await cap.acquire('x'), await cap.acquire('x')], [true, false]);
  assert.equal(errors.length, 2);
  cap.release('x');
  assert.equal(await cap.acquire('x'), true);
});
