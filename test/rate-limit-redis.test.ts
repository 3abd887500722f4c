import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RateLimiter } from '../src/chat/rate-limit.js';
import { RedisRateLimiter } from '../src/chat/rate-limit-redis.js';
import { sleep } from './helpers.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

test('RedisRateLimiter: one bucket per key across instances, refilled over time', async (t) => {
  const prefix = testPrefix();
  const redis = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
  t.after(() => {
    for (const r of redis) r.disconnect();
  });
  const [a, b] = redis.map(
    (r) =>
      new RedisRateLimiter({
        redis: r,
        prefix,
        perSec: 10,
        burst: 20,
        fallback: new RateLimiter({ perSec: 10, burst: 20 }),
      }),
  ) as [RedisRateLimiter, RedisRateLimiter];
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).take('room\0m')));
  assert.equal(results.filter(Boolean).length, 20, 'the burst is shared by both instances');
  assert.equal(await a.take('room\0other'), true, 'other members have their own bucket');
  await sleep(250);
  const refilled = await Promise.all([a.take('room\0m'), b.take('room\0m'), a.take('room\0m')]);
  assert.ok(refilled.filter(Boolean).length >= 2, 'about 2.5 tokens after 250 ms at 10/s');
});

test('RedisRateLimiter: falls back to its own buckets while Redis does not answer', async (t) => {
  const redis = new Redis('redis://127.0.0.1:1', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  t.after(() => redis.disconnect());
  const limiter = new RedisRateLimiter({
    redis,
    perSec: 1,
    burst: 2,
    fallback: new RateLimiter({ perSec: 1, burst: 2 }),
  });
  assert.deepEqual([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')], [true, true, false]);
});
