import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisPresence } from '../src/chat/presence/redis.js';
import type { Member } from '../src/chat/protocol.js';
import { sleep } from './helpers.js';
import { until } from './message-bus.contract.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

/** Two or more instances' presence over one Redis; `left` collects the leaves any of them logged. */
function cluster(t: TestContext, { grace = 150, ttl = 600 } = {}) {
  const prefix = testPrefix();
  const left: Array<[string, Member]> = [];
  const open = () => {
    const redis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: true });
    const presence = new RedisPresence({
      redis,
      instanceId: randomUUID(),
      prefix,
      leaveGraceMs: grace,
      presenceTtlMs: ttl,
      onLeave: (room, member) => left.push([room, member]),
      onError: (err, context) => t.diagnostic(`${context.operation} ${context.room ?? ''}: ${err}`),
    });
    t.after(async () => {
      await presence.close().catch(() => {});
      redis.disconnect();
    });
    return { presence, redis };
  };
  return { open, left };
}

test('RedisPresence: tabs on two instances are one member: one join, one leave after the last', async (t) => {
  const { open, left } = cluster(t);
  const a = open().presence;
  const b = open().presence;
  const alice = { id: 'alice', name: 'Alice' };
  assert.equal((await a.connect('r', alice)).entered, true);
  const other = await b.connect('r', { id: 'alice', name: 'Other tab' });
  assert.equal(other.entered, false, 'the second instance sees the member already in');
  assert.equal(other.member.name, 'Alice', 'and it keeps its name');
  assert.deepEqual(await b.members('r'), [alice]);
  await a.disconnect('r', 'alice');
  await sleep(400);
  assert.deepEqual(left, [], 'a tab is still open on the other instance');
  assert.deepEqual(await a.online('r', 'alice'), alice, 'online through the other instance');
  await b.disconnect('r', 'alice');
  assert.deepEqual(await a.members('r'), [alice], 'still a member during the grace period');
  await until(() => left.length === 1);
  await sleep(300);
  assert.deepEqual(left, [['r', alice]], 'logged once, by one of the instances');
  assert.deepEqual(await b.members('r'), []);
});

test('RedisPresence: a reconnect on another instance inside the grace period is no leave', async (t) => {
  const { open, left } = cluster(t, { grace: 300 });
  const a = open().presence;
  const b = open().presence;
  await a.connect('r', { id: 'm', name: 'M' });
  await a.disconnect('r', 'm');
  await sleep(100);
  assert.equal((await b.connect('r', { id: 'm', name: 'M' })).entered, false);
  await sleep(500);
  assert.deepEqual(left, []);
});

test("RedisPresence: a dead instance's members leave after the TTL plus the grace, exactly once", async (t) => {
  const { open, left } = cluster(t, { grace: 100, ttl: 400 });
  const survivor = open().presence;
  const victim = open();
  await victim.presence.connect('r', { id: 'gone', name: 'Gone' });
  await victim.presence.connect('r', { id: 'both', name: 'Both' });
  await survivor.connect('r', { id: 'both', name: 'Both' });
  const killedAt = Date.now();
  victim.redis.disconnect(); // the process died: no goodbye, no more heartbeats
  await until(() => left.length === 1, 3000);
  const after = Date.now() - killedAt;
  assert.ok(after >= 100, `not before the grace period (${after} ms)`);
  await sleep(600);
  assert.deepEqual(left, [['r', { id: 'gone', name: 'Gone' }]], 'the member with a tab elsewhere stays');
  assert.deepEqual(await survivor.members('r'), [{ id: 'both', name: 'Both' }]);
});

test('RedisPresence: renames are shared; a clean shutdown hands its members over', async (t) => {
  const { open, left } = cluster(t);
  const a = open().presence;
  const b = open().presence;
  const local = await a.connect('r', { id: 'x', name: 'X' });
  await b.renamed('r', { id: 'x', name: 'Xavier' });
  assert.deepEqual(await a.members('r'), [{ id: 'x', name: 'Xavier' }]);
  await a.renamed('r', { id: 'x', name: 'Xa' });
  assert.equal(local.member.name, 'Xa', 'local tabs share the renamed member');
  await a.close();
  await until(() => left.length === 1);
  assert.deepEqual(left, [['r', { id: 'x', name: 'Xa' }]]);
});
