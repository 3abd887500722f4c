import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../src/chat/rate-limit.js';

test('a bucket allows its burst, then refills at the rate', () => {
  let now = 0;
  const limiter = new RateLimiter({ perSec: 10, burst: 20, now: () => now });
  for (let i = 0; i < 20; i++) assert.equal(limiter.take('a'), true, `burst ${i}`);
  assert.equal(limiter.take('a'), false, 'the 21st in the same instant is refused');
  assert.equal(limiter.take('b'), true, 'buckets are per key');
  now += 100;
  assert.equal(limiter.take('a'), true, 'one token after 100 ms at 10/s');
  assert.equal(limiter.take('a'), false);
  now += 10_000;
  for (let i = 0; i < 20; i++) assert.equal(limiter.take('a'), true, 'refilled to the burst, not beyond');
  assert.equal(limiter.take('a'), false);
});

test('forgetting a key gives it a full bucket again', () => {
  const limiter = new RateLimiter({ perSec: 1, burst: 1, now: () => 0 });
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), false);
  limiter.forget('a');
  assert.equal(limiter.take('a'), true);
});
