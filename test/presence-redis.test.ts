import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { type PresenceErrorContext, RedisPresence } from '../src/chat/presence/redis.js';
import type { Member } from '../src/chat/protocol.js';
import { ManualClock } from './clock.js';
import { presenceContract } from './presence.contract.js';
import { TEST_REDIS_URL, testPrefix } from './services.js';

const GRACE = 1000;

interface Instance {
  presence: RedisPresence;
  redis: Redis;
  /** What onError was told; must be empty at the end unless the instance was killed. */
  errors: Array<{ err: unknown; context: PresenceErrorContext }>;
  /** The process died: no goodbye, no more heartbeats (its timers still fire and fail). */
  kill(): void;
}

/** Instances' presence over one Redis and one clock; `leaves` collects what any of them logged. */
function cluster({ grace = GRACE, ttl = 30_000 } = {}) {
  const prefix = testPrefix();
  const clock = new ManualClock();
  const leaves: Array<[string, Member]> = [];
  const instances: Array<Instance & { dead: boolean }> = [];
  const open = (): Instance => {
    const redis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: true });
    const errors: Instance['errors'] = [];
    const presence = new RedisPresence({
      redis,
      instanceId: randomUUID(),
      prefix,
      leaveGraceMs: grace,
      presenceTtlMs: ttl,
      clock,
      onLeave: (room, member) => leaves.push([room, member]),
      onError: (err, context) => errors.push({ err, context }),
    });
    const instance = {
      presence,
      redis,
      errors,
      dead: false,
      kill() {
        instance.dead = true;
        redis.disconnect();
      },
    };
    instances.push(instance);
    return instance;
  };
  /** Move the clock, then let every live instance take the leaves that fell due. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await Promise.all(instances.filter((i) => !i.dead).map((i) => i.presence.reap()));
  };
  const cleanup = async () => {
    for (const instance of instances) {
      await instance.presence.close();
      instance.redis.disconnect();
    }
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    for (const instance of instances.filter((i) => !i.dead)) {
      assert.deepEqual(
        instance.errors.map((e) => e.context),
        [],
        'no Redis failure',
      );
    }
  };
  return { open, advance, cleanup, clock, leaves, prefix };
}

function setup(t: TestContext, options?: { grace?: number; ttl?: number }) {
  const c = cluster(options);
  t.after(c.cleanup);
  return c;
}

presenceContract('RedisPresence', async (leaveGraceMs) => {
  const { open, advance, cleanup, clock, leaves } = cluster({ grace: leaveGraceMs });
  return { presence: open().presence, clock, leaves, advance, cleanup };
});

const alice = { id: 'alice', name: 'Alice' };

test('RedisPresence: tabs on two instances are one member: one join, one leave after the last', async (t) => {
  const { open, advance, leaves } = setup(t);
  const a = open().presence;
  const b = open().presence;
  assert.equal((await a.connect('r', alice)).entered, true);
  const other = await b.connect('r', { id: 'alice', name: 'Other tab' });
  assert.equal(other.entered, false, 'the second instance sees the member already in');
  assert.equal(other.member.name, 'Alice', 'and it keeps its name');
  assert.deepEqual(await b.members('r'), [alice]);
  await a.disconnect('r', 'alice');
  await advance(GRACE * 3);
  assert.deepEqual(leaves, [], 'a tab is still open on the other instance');
  assert.deepEqual(await a.online('r', 'alice'), alice, 'online through the other instance');
  await b.disconnect('r', 'alice');
  assert.deepEqual(await a.members('r'), [alice], 'still a member during the grace period');
  assert.equal(await a.online('r', 'alice'), undefined);
  await advance(GRACE - 1);
  assert.deepEqual(leaves, []);
  await advance(1);
  assert.deepEqual(leaves, [['r', alice]], 'logged by one of the instances');
  await advance(GRACE * 3);
  assert.deepEqual(leaves, [['r', alice]], 'and only once');
  assert.deepEqual(await b.members('r'), []);
});

test('RedisPresence: a reconnect on another instance inside the grace period is no leave', async (t) => {
  const { open, advance, leaves } = setup(t);
  const a = open().presence;
  const b = open().presence;
  await a.connect('r', { id: 'm', name: 'M' });
  await a.disconnect('r', 'm');
  await advance(GRACE - 1);
  assert.equal((await b.connect('r', { id: 'm', name: 'M' })).entered, false);
  await advance(GRACE * 3);
  assert.deepEqual(leaves, []);
  assert.deepEqual(await a.online('r', 'm'), { id: 'm', name: 'M' });
});

test("RedisPresence: a dead instance's members leave after the TTL plus the grace, exactly once", async (t) => {
  const ttl = 3000;
  const { open, advance, leaves } = setup(t, { ttl });
  const survivor = open().presence;
  const victim = open();
  // its heartbeat (sent when it was built) is ahead of these on its connection
  await victim.presence.connect('r', { id: 'gone', name: 'Gone' });
  await victim.presence.connect('r', { id: 'both', name: 'Both' });
  await survivor.connect('r', { id: 'both', name: 'Both' });
  victim.kill();
  await advance(ttl - 1);
  assert.deepEqual(await survivor.members('r'), [
    { id: 'gone', name: 'Gone' },
    { id: 'both', name: 'Both' },
  ]);
  await advance(1); // its heartbeat expired: its connections are gone, the grace period starts
  await advance(GRACE - 1);
  assert.deepEqual(leaves, [], 'not before the grace period is over');
  await advance(1);
  assert.deepEqual(leaves, [['r', { id: 'gone', name: 'Gone' }]], 'the member with a tab elsewhere stays');
  await advance(ttl * 3);
  assert.deepEqual(leaves, [['r', { id: 'gone', name: 'Gone' }]], 'logged once');
  assert.deepEqual(await survivor.members('r'), [{ id: 'both', name: 'Both' }]);
  assert.ok(victim.errors.length > 0, 'the dead instance reported its failures');
});

test('RedisPresence: renames are shared; a clean shutdown hands its members over', async (t) => {
  const { open, advance, leaves } = setup(t);
  const a = open().presence;
  const b = open().presence;
  const local = await a.connect('r', { id: 'x', name: 'X' });
  assert.equal(await b.rename('r', { id: 'x', name: 'Xavier' }), true);
  assert.deepEqual(await a.members('r'), [{ id: 'x', name: 'Xavier' }]);
  assert.equal(await a.rename('r', { id: 'x', name: 'Xa' }), true);
  assert.equal(local.member.name, 'Xa', 'local tabs share the renamed member');
  await a.close();
  assert.deepEqual(await b.members('r'), [{ id: 'x', name: 'Xa' }], 'in its grace period');
  await advance(GRACE - 1);
  assert.deepEqual(leaves, []);
  await advance(1);
  assert.deepEqual(leaves, [['r', { id: 'x', name: 'Xa' }]], 'taken by the instance still running');
});

test('RedisPresence: an instance states its connections again when Redis lost its data', async (t) => {
  const { open, advance, leaves, prefix } = setup(t);
  const a = open();
  const b = open().presence;
  await a.presence.connect('r', { id: 'm', name: 'M' });
  const keys = await a.redis.keys(`${prefix}*`);
  await a.redis.del(...keys);
  assert.deepEqual(await b.members('r'), []);
  await a.presence.heartbeat(); // not listed any more: it republishes
  assert.deepEqual(await b.members('r'), [{ id: 'm', name: 'M' }]);
  assert.deepEqual(await b.online('r', 'm'), { id: 'm', name: 'M' });
  await a.presence.disconnect('r', 'm');
  await advance(GRACE);
  assert.deepEqual(leaves, [['r', { id: 'm', name: 'M' }]]);
});

test('RedisPresence: while Redis is unreachable it answers from its own view, reports each failure, and catches up after', async (t) => {
  const { open } = setup(t);
  const a = open();
  const b = open().presence;
  const p = { id: 'p', name: 'P' };
  await a.presence.connect('r', p);
  await a.presence.connect('r', p);
  await a.presence.heartbeat(); // the one 'ready' asked for is done
  a.redis.disconnect();
  assert.equal((await a.presence.connect('r', { id: 'q', name: 'Q' })).entered, true, 'new here: a join');
  assert.deepEqual(
    (await a.presence.members('r')).map((m) => m.id),
    ['p', 'q'],
    'the members connected here',
  );
  assert.equal(await a.presence.online('r', 'nobody'), undefined);
  assert.equal(await a.presence.rename('r', { id: 'q', name: 'Quinn' }), true, 'free among those connected here');
  await a.presence.disconnect('r', 'p'); // one of its two tabs
  assert.deepEqual(
    a.errors.map((e) => e.context),
    [
      { operation: 'connect', room: 'r' },
      { operation: 'members', room: 'r' },
      { operation: 'online', room: 'r' },
      { operation: 'rename', room: 'r' },
      { operation: 'disconnect', room: 'r' },
    ],
  );
  assert.deepEqual(await b.members('r'), [p], 'Redis has not heard of q');
  a.errors.length = 0;
  await a.redis.connect();
  await a.presence.heartbeat();
  assert.deepEqual(await b.members('r'), [p, { id: 'q', name: 'Quinn' }], 'q is stated once Redis is back');
  assert.deepEqual(await b.online('r', 'q'), { id: 'q', name: 'Quinn' });
  await a.presence.disconnect('r', 'p');
  assert.equal(await b.online('r', 'p'), undefined, 'its one tab left was its last');
});
