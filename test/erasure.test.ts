/**
 * Memory and disk (PROTOCOL.md, "Abuse limits"): a room nobody is in holds no state but a bounded
 * cache; a room with no message is erased EMPTY_ROOM_TTL_HOURS after its last member left; with
 * RETENTION_DAYS, older events are erased and the seq goes on. Time moves only with the test's clock.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { ManualClock } from './clock.js';
import { connect, listen, newRoom, newUid, tempDir, testConfig } from './helpers.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Wait (bounded) for an async condition the server reaches after the clock moved. */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  // bounded generously: a busy machine only makes it later
  for (let i = 0; i < 1500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never: ${what}`);
}

test('rooms nobody is in hold no state but the store cache, which stays within its bound', async (t) => {
  const clock = new ManualClock();
  const store = new SqliteStore({ path: join(tempDir(t), 'chat.db'), latestCacheRooms: 5 });
  const { app, ws } = await listen(t, testConfig(t), { clock, store });
  for (let i = 0; i < 12; i++) {
    const visitor = await connect(ws, newRoom('visited'), { uid: newUid() });
    await visitor.say('hello');
    await visitor.close();
  }
  await eventually(async () => app.chat.registry.connectionCount === 0, 'the server saw every socket close');
  clock.advance(testConfig(t).leaveGraceMs);
  await eventually(async () => app.chat.heldRooms().presence === 0, 'every member left');
  assert.deepEqual(app.chat.heldRooms(), { registry: 0, presence: 0, bus: 0, storeCache: 5 });
  const metrics = (await app.inject('/metrics')).body;
  assert.match(metrics, /^roomchat_rooms_held\{where="registry"\} 0$/m);
  assert.match(metrics, /^roomchat_rooms_held\{where="storeCache"\} 5$/m);
});

test('a room without messages is erased a day after its last member left; a room with one stays', async (t) => {
  const clock = new ManualClock();
  const config = testConfig(t, { pingIntervalMs: 30 * DAY });
  const { app, ws } = await listen(t, config, { clock });
  const [quiet, talked, occupied] = [newRoom('quiet'), newRoom('talked'), newRoom('occupied')];
  await (await connect(ws, quiet, { uid: newUid() })).close();
  const talker = await connect(ws, talked, { uid: newUid() });
  await talker.say('worth keeping');
  await talker.close();
  const stayer = await connect(ws, occupied, { uid: newUid() }); // in the room the whole time
  await eventually(async () => app.chat.registry.connectionCount === 1, 'two sockets closed');
  clock.advance(config.leaveGraceMs);
  await eventually(async () => (await app.store.latestSeq(talked)) === 3, 'the leaves are logged');
  clock.advance(23 * HOUR);
  assert.equal((await app.chat.sweep()).rooms, 0, 'not a day yet');
  clock.advance(2 * HOUR); // the hourly sweep passes the day mark
  await eventually(async () => (await app.store.latestSeq(quiet)) === 0, 'the quiet room is erased');
  assert.equal(await app.store.latestSeq(talked), 3, 'join, message, leave');
  assert.equal(await app.store.latestSeq(occupied), 1, 'its member is still there');
  assert.equal((await stayer.say('still here')).seq, 2);
  const back = await connect(ws, quiet, { uid: newUid() });
  assert.deepEqual(
    back.welcome.history.map((e: { seq: number; type: string }) => [e.seq, e.type]),
    [[1, 'join']],
    'a new visit starts a new log',
  );
});

test('with RETENTION_DAYS, older events are erased and the seq goes on', async (t) => {
  const clock = new ManualClock();
  const config = testConfig(t, { pingIntervalMs: 30 * DAY, retentionDays: 1 });
  const { app, ws } = await listen(t, config, { clock });
  const room = newRoom('kept');
  const alice = await connect(ws, room, { uid: newUid() });
  const old = await alice.say('from the old days');
  clock.advance(DAY + HOUR);
  await eventually(async () => (await app.store.read(room, { limit: 10 })).length === 0, 'old events erased');
  const fresh = await alice.say('today');
  assert.equal(fresh.seq, old.seq + 1, 'the seq goes on');
  const page = (await app.inject(`/api/rooms/${room}/messages`)).json();
  assert.deepEqual(
    page.events.map((e: { text?: string }) => e.text),
    ['today'],
  );
});
