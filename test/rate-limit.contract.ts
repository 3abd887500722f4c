/** The RateLimit contract, run against every limiter (rate-limit-*.test.ts) on a clock the test moves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RateLimit, RateLimitOptions } from '../src/chat/rate-limit/rate-limit.js';
import type { ManualClock } from './clock.js';

export interface MadeLimiter {
  /** A limiter on `clock`, with no buckets yet. */
  limiter: RateLimit;
  clock: ManualClock;
  cleanup(): void | Promise<void>;
}

export type MakeLimiter = (options: Pick<RateLimitOptions, 'perSec' | 'burst'>) => MadeLimiter | Promise<MadeLimiter>;

/** Takes for `key` one after the other, as one connection's frames are handled. */
async function takes(limiter: RateLimit, key: string, n: number): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < n; i++) results.push(await limiter.take(key));
  return results;
}

const times = (n: number, value: boolean) => Array.from({ length: n }, () => value);

export function rateLimitContract(name: string, make: MakeLimiter): void {
  const open = async (t: { after(fn: () => unknown): void }, options: { perSec: number; burst: number }) => {
    const made = await make(options);
    t.after(() => made.cleanup());
    return made;
  };

  test(`${name}: a full bucket allows exactly burst takes at one instant, then refuses`, async (t) => {
    const { limiter } = await open(t, { perSec: 1, burst: 5 });
    assert.deepEqual(await takes(limiter, 'k', 7), [...times(5, true), false, false]);
  });

  test(`${name}: takes at one instant in parallel get exactly burst tokens`, async (t) => {
    const { limiter } = await open(t, { perSec: 1, burst: 5 });
    const results = await Promise.all(Array.from({ length: 12 }, () => limiter.take('k')));
    assert.equal(results.filter(Boolean).length, 5);
  });

  test(`${name}: the bucket refills at perSec, one token each 1000/perSec ms`, async (t) => {
    const { limiter, clock } = await open(t, { perSec: 2, burst: 3 });
    await takes(limiter, 'k', 3);
    assert.equal(await limiter.take('k'), false);
    clock.advance(500);
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false], 'exactly one more after 500 ms at 2/s');
    clock.advance(250);
    assert.equal(await limiter.take('k'), false, 'half a token is not a token');
    clock.advance(250);
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false], 'a refused take keeps the half refilled');
    clock.advance(1000);
    assert.deepEqual(await takes(limiter, 'k', 3), [true, true, false]);
  });

  test(`${name}: never more than burst, however long the key was idle`, async (t) => {
    const { limiter, clock } = await open(t, { perSec: 1, burst: 4 });
    await takes(limiter, 'k', 4);
    clock.advance(3_600_000);
    assert.deepEqual(await takes(limiter, 'k', 6), [...times(4, true), false, false]);
  });

  test(`${name}: keys are independent`, async (t) => {
    const { limiter, clock } = await open(t, { perSec: 1, burst: 2 });
    assert.deepEqual(await takes(limiter, 'room\0a', 3), [true, true, false]);
    assert.deepEqual(await takes(limiter, 'room\0b', 3), [true, true, false], 'b still had its full bucket');
    assert.deepEqual(await takes(limiter, 'other\0a', 1), [true], 'the same member in another room too');
    clock.advance(1000);
    assert.deepEqual(await takes(limiter, 'room\0a', 2), [true, false]);
    assert.deepEqual(await takes(limiter, 'room\0b', 2), [true, false]);
  });

  test(`${name}: fractional rates: 0.5/s is one token every 2 s`, async (t) => {
    const { limiter, clock } = await open(t, { perSec: 0.5, burst: 1 });
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false]);
    clock.advance(1000);
    assert.equal(await limiter.take('k'), false, 'half a token after 1 s');
    clock.advance(1000);
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false]);
    clock.advance(10_000);
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false], 'burst 1 caps a long idle at one');
  });

  test(`${name}: a clock that goes backwards adds no tokens; refill resumes from its new reading`, async (t) => {
    const { limiter, clock } = await open(t, { perSec: 1, burst: 2 });
    await takes(limiter, 'k', 2);
    clock.advance(-60_000);
    assert.equal(await limiter.take('k'), false);
    clock.advance(500);
    assert.equal(await limiter.take('k'), false, 'half a token, counted from the new reading');
    clock.advance(500);
    assert.deepEqual(await takes(limiter, 'k', 2), [true, false]);
  });
}
