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
