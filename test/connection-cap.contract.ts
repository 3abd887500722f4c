/** The ConnectionCap contract, run against every implementation (connection-cap-*.test.ts). */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { ConnectionCap } from '../src/chat/address/connection-cap.js';

export interface MadeCap {
  /** A cap with no connections counted yet. */
  cap: ConnectionCap;
  cleanup(): void | Promise<void>;
}

export type MakeCap = (max: number) => MadeCap | Promise<MadeCap>;

export function connectionCapContract(name: string, make: MakeCap): void {
  const open = async (t: TestContext, max: number) => {
    const made = await make(max);
    t.after(() => made.cleanup());
    return made.cap;
  };

  test(`${name}: at most max connections per address; every address counts on its own`, async (t) => {
    const cap = await open(t, 3);
    const a = [await cap.acquire('10.0.0.1'), await cap.acquire('10.0.0.1'), await cap.acquire('10.0.0.1')];
    assert.deepEqual(a, [true, true, true]);
    assert.equal(await cap.acquire('10.0.0.1'), false, 'the fourth is refused');
    assert.equal(await cap.acquire('10.0.0.2'), true, 'another address');
    assert.equal(cap.addresses, 2);
  });

  test(`${name}: acquires in parallel get exactly max`, async (t) => {
    const cap = await open(t, 5);
    const results = await Promise.all(Array.from({ length: 12 }, () => cap.acquire('::1')));
    assert.equal(results.filter(Boolean).length, 5);
  });

  test(`${name}: a release frees one place; a refused acquire takes none`, async (t) => {
    const cap = await open(t, 2);
    assert.deepEqual([await cap.acquire('a'), await cap.acquire('a'), await cap.acquire('a')], [true, true, false]);
    cap.release('a');
    assert.equal(await cap.acquire('a'), true, 'the released place');
    assert.equal(await cap.acquire('a'), false);
    cap.release('a');
    cap.release('a');
    assert.equal(cap.addresses, 0, 'an address with no connection is forgotten');
    cap.release('a'); // one too many: nothing to release, nothing breaks
    assert.deepEqual([await cap.acquire('a'), await cap.acquire('a'), await cap.acquire('a')], [true, true, false]);
  });
}
