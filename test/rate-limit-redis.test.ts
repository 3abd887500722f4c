import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRateLimiter, type RedisRateLimiterOptions } from '../src/chat/rate-limit/redis.js';
import { ManualClock } from './clock.js';
import { rateLimitContract } from './rate-limit.contract.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

/** As src/backends.ts connects for commands: fail at once while Redis is down. */
const COMMANDS = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };

const ready = (redis: Redis) =>
  redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()));

async function connect(t: TestContext, url = TEST_REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, COMMANDS);
  redis.on('error', () => {}); // a refused connection is what some tests want
  t.after(() => redis.disconnect());
  return redis;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Options = Omit<RedisRateLimiterOptions, 'redis'>;

/** A limiter on a fresh prefix and a manual clock, recording every Redis failure it falls back on. */
function limiterOn(redis: Redis, perSec: number, burst: number) {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const limiter = new RedisRateLimiter({
    redis,
    prefix: testPrefix(),
    perSec,
    burst,
    clock,
    onError: (err) => errors.push(err),
  });
  return { limiter, clock, errors };
}

rateLimitContract('RedisRateLimiter', async ({ perSec, burst }) => {
  const redis = new Redis(TEST_REDIS_URL);
  await ready(redis);
  const { limiter, clock, errors } = limiterOn(redis, perSec, burst);
  return {
    limiter,
    clock,
    cleanup: () => {
      redis.disconnect();
      assert.deepEqual(errors, [], 'every take went to Redis, none to the fallback');
    },
  };
});

test('RedisRateLimiter: two instances share one bucket per key, on one clock', async (t) => {
  const clock = new ManualClock();
  const options: Options = { prefix: testPrefix(), perSec: 2, burst: 10, clock, onError: assert.fail };
  const [ra, rb] = await Promise.all([connect(t), connect(t)]);
  await Promise.all([ready(ra), ready(rb)]);
  const a = new RedisRateLimiter({ ...options, redis: ra });
  const b = new RedisRateLimiter({ ...options, redis: rb });
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).take('room\0m')));
  assert.equal(results.filter(Boolean).length, 10, 'the burst is shared by both instances');
  clock.advance(500);
  assert.deepEqual([await b.take('room\0m'), await a.take('room\0m')], [true, false], 'one refill, taken once');
});

test('RedisRateLimiter: under the system clock the buckets run on Redis time, shared by every instance', async (t) => {
  // a rate so slow that no token comes back during the test, however slow the machine
  const options: Options = { prefix: testPrefix(), perSec: 0.001, burst: 4, onError: assert.fail };
  const [ra, rb] = await Promise.all([connect(t), connect(t)]);
  await Promise.all([ready(ra), ready(rb)]);
  const a = new RedisRateLimiter({ ...options, redis: ra });
  const b = new RedisRateLimiter({ ...options, redis: rb });
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).take('room\0m')));
  assert.equal(results.filter(Boolean).length, 4);
  const at = Number(await ra.hget(`${options.prefix}rate:room\0m`, 'at'));
  const [seconds] = await ra.time();
  assert.ok(Math.abs(at - Number(seconds) * 1000) < 60_000, 'the refill time is kept in epoch milliseconds');
});

test('RedisRateLimiter: forget leaves the shared bucket; the key expires once it would be full', async (t) => {
  const prefix = testPrefix();
  const redis = await connect(t);
  await ready(redis);
  const limiter = new RedisRateLimiter({ redis, prefix, perSec: 1, burst: 3, clock: new ManualClock() });
  assert.equal(await limiter.take('k'), true);
  const ttl = await redis.pttl(`${prefix}rate:k`);
  assert.ok(ttl > 0 && ttl <= 2000, `1 s to refill the token taken, plus 1 s: ${ttl}`);
  assert.deepEqual([await limiter.take('k'), await limiter.take('k')], [true, true]);
  limiter.forget('k');
  assert.equal(await limiter.take('k'), false, 'the member may still be connected elsewhere');
});

test('RedisRateLimiter: with Redis unreachable, takes use local buckets and report each failure', async (t) => {
  const redis = await connect(t, `redis://127.0.0.1:${await closedPort()}`);
  const errors: unknown[] = [];
  const limiter = new RedisRateLimiter({
    redis,
    perSec: 1,
    burst: 2,
    clock: new ManualClock(),
    onError: (err) => errors.push(err),
  });
  assert.deepEqual([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')], [true, true, false]);
  assert.equal(errors.length, 3, 'onError on every failure');
  assert.ok(errors.every((err) => err instanceof Error));
  limiter.forget('k');
  assert.equal(await limiter.take('k'), true, 'forget clears the fallback bucket');
});

test('RedisRateLimiter: when its connection drops, takes fall back to a bucket of the same size', async (t) => {
  const redis = await connect(t);
  await ready(redis);
  const { limiter, clock, errors } = limiterOn(redis, 1, 2);
  assert.deepEqual([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')], [true, true, false]);
  assert.deepEqual(errors, []);
  redis.disconnect();
  assert.deepEqual([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')], [true, true, false]);
  assert.equal(errors.length, 3);
  clock.advance(1000);
  assert.deepEqual([await limiter.take('k'), await limiter.take('k')], [true, false], 'on the same clock');
});
