import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRateLimiter } from '../src/chat/rate-limit/memory.js';
import { ManualClock } from './clock.js';
import { rateLimitContract } from './rate-limit.contract.js';

rateLimitContract('MemoryRateLimiter', ({ perSec, burst }) => {
  const clock = new ManualClock();
  return { limiter: new MemoryRateLimiter({ perSec, burst, clock }), clock, cleanup: () => {} };
});

test('MemoryRateLimiter: forgetting a key gives it a full bucket again', () => {
  const limiter = new MemoryRateLimiter({ perSec: 1, burst: 2, clock: new ManualClock() });
  assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [true, true, false]);
  limiter.forget('a');
  assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [true, true, false]);
});

test('MemoryRateLimiter: buckets that refilled are dropped as keys come and go', () => {
  const clock = new ManualClock();
  const limiter = new MemoryRateLimiter({ perSec: 1, burst: 2, clock });
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 1000; i++) limiter.take(`${round}:${i}`); // never forgotten, as client addresses
    clock.advance(1000); // each bucket is full again
  }
  assert.ok(limiter.size <= 2048, `10,000 keys seen, ${limiter.size} kept`);
  // a bucket still in use is kept: its debt is not forgiven
  limiter.take('busy');
  limiter.take('busy');
  for (let i = 0; i < 3000; i++) limiter.take(`late:${i}`);
  assert.equal(limiter.take('busy'), false);
});
