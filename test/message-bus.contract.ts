/**
 * The MessageBus contract: every implementation runs these tests (see *-bus.test.ts).
 * `pair` gives buses that reach each other, as separate instances would.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { BusMessage, MessageBus } from '../src/chat/bus/message-bus.js';
import { until } from './helpers.js';

export interface BusFactory {
  pair(t: TestContext): Promise<[MessageBus, MessageBus, MessageBus?]>;
}

const event = (room: string, seq: number): BusMessage => ({
  kind: 'event',
  room,
  event: { seq, json: JSON.stringify({ type: 'message', room, seq }) },
});

/** Everything a bus delivers, in order. */
function collect(bus: MessageBus): BusMessage[] {
  const got: BusMessage[] = [];
  bus.subscribe({ deliver: (m) => got.push(m), resync: () => {} });
  return got;
}

export function messageBusContract(name: string, factory: BusFactory): void {
  test(`${name}: what one instance publishes reaches the others watching the room, never itself`, async (t) => {
    const [a, b, c] = await factory.pair(t);
    const got = { a: collect(a), b: collect(b), c: c ? collect(c) : [] };
    await Promise.all([a.watch('r'), b.watch('r'), c?.watch('r')]);
    await a.publish(event('r', 1));
    await until(() => got.b.length === 1 && (!c || got.c.length === 1));
    // an echo of a's message would reach a before b's marker
    await b.publish(event('r', 2));
    await until(() => got.a.length > 0);
    assert.deepEqual(got.a, [event('r', 2)], 'no echo of its own message');
    assert.deepEqual(got.b, [event('r', 1)]);
    assert.notEqual(a.instanceId, b.instanceId);
  });

  test(`${name}: messages from one publisher arrive in publish order, intact`, async (t) => {
    const [a, b] = await factory.pair(t);
    const got = collect(b);
    await Promise.all(['odd', 'even', 'r'].map((room) => b.watch(room)));
    const sent: BusMessage[] = [];
    for (let i = 1; i <= 100; i++) sent.push(event(i % 2 ? 'odd' : 'even', i));
    sent.push({ kind: 'ephemeral', room: 'r', json: '{"type":"typing","text":"日本語 <b>\\n"}', except: 'm1' });
    sent.push({ kind: 'ephemeral', room: 'r', json: '{"type":"direct"}', to: ['m1', 'm2'] });
    sent.push({ kind: 'renamed', room: 'r', member: { id: 'm1', name: 'Ann "\\n" 日本' } });
    await Promise.all(sent.map((m) => a.publish(m)));
    await until(() => got.length === sent.length);
    assert.deepEqual(got, sent);
  });

  test(`${name}: a closed bus receives nothing more; ping answers while open`, async (t) => {
    const [a, b, c] = await factory.pair(t);
    await a.ping();
    const got = collect(b);
    const gotC = c ? collect(c) : [];
    await Promise.all([b.watch('r'), c?.watch('r')]);
    await b.close();
    await a.publish(event('r', 1));
    await a.publish(event('r', 2));
    // the open bus got both: the closed one had its chance at the first
    if (c) await until(() => gotC.length === 2);
    assert.deepEqual(got, []);
  });
}
