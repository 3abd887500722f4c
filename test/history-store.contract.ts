/**
 * The HistoryStore contract: every implementation runs these tests (see *-store.test.ts).
 * `reopen` gives a store over the same data as before, as after a restart.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { EventDraft } from '../src/chat/protocol.js';
import type { HistoryStore } from '../src/chat/store/history-store.js';
import { parseQuery } from '../src/shared/search.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  open(t: TestContext): Promise<{ store: HistoryStore; reopen(): Promise<HistoryStore> }>;
}

const member = (id: string, name = id) => ({ id, name });
let roomN = 0;
const freshRoom = () => `room-${process.pid}-${++roomN}-${Math.random().toString(36).slice(2, 8)}`;
const message = (room: string, from: string, text: string, clientMsgId?: string): EventDraft => ({
  type: 'message',
  room,
  id: `id-${text}`,
  from: member(from),
  text,
  ts: new Date(0).toISOString(),
  ...(clientMsgId ? { clientMsgId } : {}),
});
const say = (store: HistoryStore, room: string, from: string, text: string, clientMsgId?: string) =>
  store.append({ draft: message(room, from, text, clientMsgId), memberId: from, clientMsgId });

export function historyStoreContract(name: string, factory: StoreFactory): void {
  test(`${name}: seq starts at 1 per room and rises by exactly 1`, async (t) => {
    const { store } = await factory.open(t);
    const [r1, r2] = [freshRoom(), freshRoom()];
    assert.equal(await store.latestSeq(r1), 0);
    const seqs = [];
    for (let i = 0; i < 5; i++) seqs.push((await say(store, r1, 'a', `m${i}`)).event.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    assert.equal((await say(store, r2, 'a', 'other room')).event.seq, 1);
    assert.equal(await store.latestSeq(r1), 5);
  });

  test(`${name}: the stored JSON is the event with its seq, byte for byte what clients get`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const { event } = await say(store, room, 'a', '<script>alert(1)</script>', 'c1');
    const parsed = JSON.parse(event.json);
    assert.deepEqual(parsed, { ...message(room, 'a', '<script>alert(1)</script>', 'c1'), seq: 1 });
    assert.deepEqual(await store.read(room, { limit: 10 }), [event]);
  });

  test(`${name}: concurrent appends to one room get distinct, gap-free seqs`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => say(store, room, `m${i % 5}`, `t${i}`)));
    assert.deepEqual(
      results.map((r) => r.event.seq).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  test(`${name}: a clientMsgId is stored once per member and room; a retry gets the original`, async (t) => {
    const { store } = await factory.open(t);
    const [room, other] = [freshRoom(), freshRoom()];
    const first = await say(store, room, 'a', 'hello', 'cm-1');
    assert.equal(first.duplicate, false);
    const retry = await say(store, room, 'a', 'hello again?', 'cm-1');
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.event, first.event, 'the original event, not the retry text');
    assert.equal((await say(store, room, 'b', 'same id, other member', 'cm-1')).duplicate, false);
    assert.equal((await say(store, other, 'a', 'same id, other room', 'cm-1')).duplicate, false);
    assert.equal((await say(store, room, 'a', 'no id')).duplicate, false);
    assert.equal((await say(store, room, 'a', 'no id')).duplicate, false, 'no clientMsgId: never deduplicated');
    assert.equal(await store.latestSeq(room), 4);
  });

  test(`${name}: read pages by seq, keeps the newest or the oldest end, ascending`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    for (let i = 1; i <= 30; i++) await say(store, room, 'a', `m${i}`);
    const seqs = async (o: Parameters<HistoryStore['read']>[1]) => (await store.read(room, o)).map((e) => e.seq);
    assert.deepEqual(await seqs({ limit: 3 }), [28, 29, 30]);
    assert.deepEqual(await seqs({ limit: 3, beforeSeq: 10 }), [7, 8, 9]);
    assert.deepEqual(await seqs({ limit: 3, afterSeq: 25 }), [28, 29, 30]);
    assert.deepEqual(await seqs({ limit: 3, afterSeq: 25, keep: 'oldest' }), [26, 27, 28]);
    assert.deepEqual(await seqs({ limit: 100, afterSeq: 3, beforeSeq: 7, keep: 'oldest' }), [4, 5, 6]);
    assert.deepEqual(await seqs({ limit: 5, beforeSeq: 1 }), []);
    assert.deepEqual(await store.read(freshRoom(), { limit: 5 }), [], 'an unused room is empty');
  });

  test(`${name}: logged members are those whose last presence event is not a leave`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const ts = new Date(0).toISOString();
    const log = async (draft: EventDraft, who: string) => store.append({ draft, memberId: who });
    await log({ type: 'join', room, member: member('a', 'Alice'), ts }, 'a');
    await log({ type: 'join', room, member: member('b', 'Bob'), ts }, 'b');
    await log({ type: 'rename', room, member: member('a', 'Ally'), previous: 'Alice', ts }, 'a');
    await log({ type: 'join', room, member: member('c', 'Cy'), ts }, 'c');
    await log({ type: 'leave', room, member: member('b', 'Bob'), ts }, 'b');
    await say(store, room, 'a', 'messages do not change presence');
    const members = (await store.loggedMembers(room)).sort((x, y) => x.id.localeCompare(y.id));
    assert.deepEqual(members, [member('a', 'Ally'), member('c', 'Cy')]);
  });

  test(`${name}: after a restart seq goes on, history is unchanged and idempotency holds`, async (t) => {
    const { store, reopen } = await factory.open(t);
    const room = freshRoom();
    const first = await say(store, room, 'a', 'before', 'cm-durable');
    await say(store, room, 'a', 'before 2');
    const before = await store.read(room, { limit: 100 });
    await store.close();
    const again = await reopen();
    t.after(() => again.close());
    assert.deepEqual(await again.read(room, { limit: 100 }), before);
    assert.equal(await again.latestSeq(room), 2);
    const retry = await say(again, room, 'a', 'before', 'cm-durable');
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.event, first.event);
    assert.equal((await say(again, room, 'a', 'after')).event.seq, 3);
  });

  test(`${name}: the secret is stored once; later candidates get the first`, async (t) => {
    const { store, reopen } = await factory.open(t);
    const first = await store.secret(`candidate-${Math.random()}`);
    assert.equal(await store.secret('another-candidate-123'), first);
    await store.close();
    const again = await reopen();
    t.after(() => again.close());
    assert.equal(await again.secret('yet-another-candidate'), first, 'the same after a restart');
  });

  // times of events (ms): a day apart, so `before` falls clearly between them
  const DAY = 24 * 3600 * 1000;
  const at = (day: number) => new Date(Date.UTC(2026, 0, 1) + day * DAY).toISOString();
  const presence = (store: HistoryStore, room: string, type: 'join' | 'leave', who: string, day: number) =>
    store.append({ draft: { type, room, member: member(who), ts: at(day) }, memberId: who });
  /** Whether `emptyRooms` lists the room (the store may hold other tests' rooms: page from just before it). */
  const listedEmpty = async (store: HistoryStore, room: string, before: number) =>
    (await store.emptyRooms(before, room.slice(0, -1), 1)).includes(room);
  const dayStart = (day: number) => Date.parse(at(day));

  test(`${name}: a room with no message whose members all left is erasable once quiet; its seq starts again`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    await presence(store, room, 'join', 'a', 0);
    await presence(store, room, 'join', 'b', 0);
    await presence(store, room, 'leave', 'a', 1);
    assert.equal(await listedEmpty(store, room, dayStart(5)), false, 'b is still in');
    await presence(store, room, 'leave', 'b', 2);
    assert.equal(await listedEmpty(store, room, dayStart(2)), false, 'its last event is not older than before');
    assert.equal(await store.eraseEmptyRoom(room, dayStart(2)), false);
    assert.equal(await listedEmpty(store, room, dayStart(2) + 1), true);
    assert.equal(await store.eraseEmptyRoom(room, dayStart(2) + 1), true);
    assert.deepEqual(await store.read(room, { limit: 10 }), [], 'its events are gone');
    assert.equal(await store.latestSeq(room), 0);
    assert.equal(await listedEmpty(store, room, dayStart(9)), false, 'and the room itself');
    assert.equal(await store.eraseEmptyRoom(room, dayStart(9)), false, 'erased once');
    assert.equal((await presence(store, room, 'join', 'c', 3)).event.seq, 1, 'a new visit starts a new log');
  });

  test(`${name}: a room that ever held a message is not erased`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    await presence(store, room, 'join', 'a', 0);
    await store.append({
      draft: { type: 'message', room, id: 'm', from: member('a'), text: 'kept', ts: at(0) },
      memberId: 'a',
    });
    await presence(store, room, 'leave', 'a', 0);
    assert.equal(await listedEmpty(store, room, dayStart(30)), false);
    assert.equal(await store.eraseEmptyRoom(room, dayStart(30)), false);
    assert.equal(await store.latestSeq(room), 3);
  });

  test(`${name}: events older than a time are erased in steps, oldest first; the seq goes on`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    for (let day = 0; day < 5; day++) {
      await store.append({
        draft: { type: 'message', room, id: `m${day}`, from: member('a'), text: `day ${day}`, ts: at(day) },
        memberId: 'a',
      });
    }
    assert.equal(await store.eraseOldEvents(room, dayStart(3), 2), 2, 'the two oldest, in a step of two');
    assert.equal(await store.eraseOldEvents(room, dayStart(3), 2), 1, 'day 2; days 3 and 4 are not older');
    assert.equal(await store.eraseOldEvents(room, dayStart(3), 2), 0);
    const left = await store.read(room, { limit: 10 });
    assert.deepEqual(
      left.map((e) => e.seq),
      [4, 5],
    );
    assert.equal((await say(store, room, 'a', 'after')).event.seq, 6, 'seq is not reused');
    await store.eraseOldEvents(room, dayStart(100), 10);
    assert.equal(await store.latestSeq(room), 6, 'a room whose events all went keeps its seq');
    assert.equal((await say(store, room, 'a', 'later')).event.seq, 7);
  });

  test(`${name}: rooms() pages through every room in name order`, async (t) => {
    const { store } = await factory.open(t);
    const base = freshRoom();
    const names = [`${base}-a`, `${base}-b`, `${base}-c`];
    // as on the server, a room's log starts with a join
    for (const room of names) await presence(store, room, 'join', 'a', 0);
    const first = await store.rooms(base, 2);
    assert.deepEqual(first, names.slice(0, 2));
    assert.deepEqual(await store.rooms(first[1] as string, 1), [names[2]]);
  });

  test(`${name}: the room's owner is the member whose join is its seq 1`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    assert.deepEqual(await store.roomInfo(room), { topic: '', roles: {} }, 'an unused room');
    await presence(store, room, 'join', 'first', 0);
    await presence(store, room, 'join', 'second', 0);
    assert.deepEqual(await store.roomInfo(room), { topic: '', roles: { first: 'owner' } });
    await presence(store, room, 'leave', 'first', 1);
    assert.deepEqual(await store.roomInfo(room), { topic: '', roles: { first: 'owner' } }, 'owner while away too');
  });

  test(`${name}: kept direct messages are read back by either of their two members only, newest last`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const keep = (id: string, fromId: string, toId: string, at: number) =>
      store.keepDirect({ room, id, fromId, toId, at, json: JSON.stringify({ id }) });
    await keep('d1', 'a', 'b', 1000);
    await keep('d2', 'b', 'a', 2000);
    await keep('d3', 'a', 'c', 3000);
    await keep('d4', 'a', 'a', 4000); // to oneself: once
    await keep('d5', 'b', 'a', 4000); // the same time: in the order kept
    const ids = async (member: string, limit = 50) =>
      (await store.directsOf(room, member, limit)).map((j) => (JSON.parse(j) as { id: string }).id);
    assert.deepEqual(await ids('a'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await ids('b'), ['d1', 'd2', 'd5']);
    assert.deepEqual(await ids('c'), ['d3']);
    assert.deepEqual(await ids('x'), []);
    assert.deepEqual(await ids('a', 2), ['d4', 'd5'], 'the newest, ascending');
    assert.deepEqual(await store.directsOf(freshRoom(), 'a', 50), [], 'per room');
    assert.deepEqual(await store.read(room, { limit: 10 }), [], 'never in the log');
  });

  test(`${name}: amend changes a message and logs its event at once; refusals and no-ops store nothing`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const original = await say(store, room, 'a', 'first text');
    const id = (JSON.parse(original.event.json) as { id: string }).id;
    const found = await store.findMessage(room, id);
    assert.deepEqual(found, { seq: 1, memberId: 'a', json: original.event.json, state: null });
    assert.equal(await store.findMessage(freshRoom(), id), null, 'per room');
    const edit = (text: string): EventDraft => ({ type: 'edit', room, id, text, from: member('a'), ts: at(1) });
    const refused = await store.amend(room, id, () => ({ code: 'forbidden', message: 'no' }));
    assert.deepEqual(refused, { code: 'forbidden', message: 'no' });
    assert.equal(await store.amend(room, id, () => null), null);
    assert.equal(await store.amend(room, 'unknown', (m) => (m === null ? null : assert.fail('found'))), null);
    assert.equal(await store.latestSeq(room), 1, 'nothing logged');
    const result = await store.amend(room, id, (m) => ({
      event: { draft: edit('second text'), memberId: 'a', msgId: id },
      message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text: 'second text', edited: at(1) }),
      state: '{"n":1}',
    }));
    assert.ok(result && !('code' in result));
    assert.equal(result.event.seq, 2);
    const [message, editEvent] = await store.read(room, { limit: 10 });
    assert.equal(JSON.parse(message?.json ?? '').text, 'second text', 'reads show the message as it is now');
    assert.equal(JSON.parse(editEvent?.json ?? '').text, 'second text', 'the edit event as logged');
    assert.equal((await store.findMessage(room, id))?.state, '{"n":1}');
  });

  test(`${name}: erasing a message empties its edit events' texts and its replies' quotes`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const target = await say(store, room, 'a', 'secret words');
    const id = (JSON.parse(target.event.json) as { id: string }).id;
    await store.amend(room, id, (m) => ({
      event: {
        draft: { type: 'edit', room, id, text: 'more secret', from: member('a'), ts: at(1) },
        memberId: 'a',
        msgId: id,
      },
      message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text: 'more secret' }),
    }));
    const quote = { id, from: member('a'), text: 'more secret' };
    await store.append({
      draft: { type: 'message', room, id: 'reply', from: member('b'), text: 'a reply', ts: at(1), replyTo: quote },
      memberId: 'b',
      replyTo: id,
    });
    await store.amend(room, id, (m) => ({
      event: { draft: { type: 'delete', room, id, by: member('a'), ts: at(2) }, memberId: 'a', msgId: id },
      message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text: '', deleted: true }),
      erase: true,
    }));
    const all = await store.read(room, { limit: 10 });
    const texts = all.flatMap((e) => {
      const parsed = JSON.parse(e.json) as { text?: string; replyTo?: { text: string } };
      return [parsed.text, parsed.replyTo?.text];
    });
    assert.equal(texts.filter((x) => x?.includes('secret')).length, 0, 'the text is in no read');
    const reply = JSON.parse(all.find((e) => e.json.includes('"reply"'))?.json ?? '{}');
    assert.deepEqual(reply.replyTo, { id, from: member('a'), text: '', deleted: true });
    assert.equal(reply.text, 'a reply', 'the reply itself is unchanged');
  });

  test(`${name}: a reply stored after its message was deleted keeps no quote of it`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    const target = await say(store, room, 'a', 'soon gone');
    const id = (JSON.parse(target.event.json) as { id: string }).id;
    const quote = { id, from: member('a'), text: 'soon gone' }; // as the handler saw it, before the delete
    await store.amend(room, id, (m) => ({
      event: { draft: { type: 'delete', room, id, by: member('a'), ts: at(1) }, memberId: 'a', msgId: id },
      message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text: '', deleted: true }),
      erase: true,
    }));
    const reply = await store.append({
      draft: { type: 'message', room, id: 'late', from: member('b'), text: 'late reply', ts: at(1), replyTo: quote },
      memberId: 'b',
      replyTo: id,
    });
    assert.deepEqual(JSON.parse(reply.event.json).replyTo, { id, from: member('a'), text: '', deleted: true });
  });

  test(`${name}: topic, role and ban effects are stored with their events; joinedOf knows who ever joined`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    await presence(store, room, 'join', 'owner', 0);
    await presence(store, room, 'join', 'mod', 0);
    const by = member('owner');
    await store.append({
      draft: { type: 'topic', room, text: 'about things', by, ts: at(0) },
      memberId: 'owner',
      effect: { kind: 'topic', text: 'about things' },
    });
    await store.append({
      draft: { type: 'role', room, member: member('mod'), role: 'moderator', by, ts: at(0) },
      memberId: 'owner',
      effect: { kind: 'role', member: 'mod', role: 'moderator' },
    });
    assert.deepEqual(await store.roomInfo(room), {
      topic: 'about things',
      roles: { owner: 'owner', mod: 'moderator' },
    });
    await store.append({
      draft: { type: 'role', room, member: member('mod'), role: 'member', by, ts: at(0) },
      memberId: 'owner',
      effect: { kind: 'role', member: 'mod', role: 'member' },
    });
    assert.deepEqual((await store.roomInfo(room)).roles, { owner: 'owner' });
    assert.equal(await store.bannedUntil(room, 'mod'), 0);
    await store.append({
      draft: { type: 'kick', room, member: member('mod'), by, until: at(3), ts: at(0) },
      memberId: 'owner',
      effect: { kind: 'ban', member: 'mod', until: dayStart(3) },
    });
    assert.equal(await store.bannedUntil(room, 'mod'), dayStart(3));
    assert.equal(await store.bannedUntil(freshRoom(), 'mod'), 0, 'per room');
    assert.deepEqual([...(await store.joinedOf(room, ['mod', 'stranger', 'owner']))].sort(), ['mod', 'owner']);
  });

  /** Seqs of the room's messages matching q, newest first. */
  const found = async (
    store: HistoryStore,
    room: string,
    q: string,
    options: { beforeSeq?: number; limit?: number } = {},
  ) => (await store.search(room, parseQuery(q), { limit: 100, ...options })).map((e) => e.seq);

  test(`${name}: search finds whole words in any case, every word of the query, newest first, in one room only`, async (t) => {
    const { store, reopen } = await factory.open(t);
    const room = freshRoom();
    for (const text of ['The quick brown fox', 'quickly, brownish', 'QUICK thinking', 'e-mail me: Fox@Example.com']) {
      await say(store, room, 'a', text);
    }
    await say(store, freshRoom(), 'a', 'quick fox elsewhere');
    await store.append({ draft: { type: 'join', room, member: member('quick'), ts: at(0) }, memberId: 'quick' });
    assert.deepEqual(await found(store, room, 'quick'), [3, 1], 'whole words only, not "quickly"');
    assert.deepEqual(await found(store, room, 'FOX quick'), [1]);
    assert.deepEqual(await found(store, room, 'fox'), [4, 1]);
    assert.deepEqual(await found(store, room, 'e-mail example.com'), [4], 'punctuation splits words, kept in order');
    assert.deepEqual(await found(store, room, 'mail-e'), [], 'the words of a query word, in its order');
    assert.deepEqual(await found(store, room, 'quick', { limit: 1 }), [3]);
    assert.deepEqual(await found(store, room, 'quick', { beforeSeq: 3 }), [1]);
    assert.deepEqual(await found(store, room, '!!! 😀'), [], 'nothing searchable: nothing found');
    assert.deepEqual(await found(store, freshRoom(), 'quick'), [], 'a room never used');
    const again = await reopen();
    assert.deepEqual(await found(again, room, 'quick'), [3, 1], 'the index outlives a restart');
    await say(again, room, 'b', 'quick again');
    assert.deepEqual(await found(again, room, 'quick'), [6, 3, 1], 'and goes on after it');
  });

  test(`${name}: search finds Chinese and Japanese as substrings of two characters or more`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    for (const text of [
      '今日はとても良い天気です',
      '我们明天去公园散步',
      '東京タワーに行きました',
      'Tokyo 東京タワー trip',
      'ｶﾀｶﾅ and ＦＵＬＬ',
    ]) {
      await say(store, room, 'a', text);
    }
    const cases: Array<[string, number[]]> = [
      ['天気', [1]],
      ['良い天気', [1]],
      ['公园 散步', [2]],
      ['タワー', [4, 3]],
      ['tokyo 東京', [4]],
      ['天気 公园', []],
      ['雨天', []],
      ['園', []],
      ['東', [4, 3]],
      ['京', [4, 3]],
      ['カタカナ full', [5]],
    ];
    for (const [q, want] of cases) assert.deepEqual(await found(store, room, q), want, q);
  });

  test(`${name}: search follows edits and deletes, and retention erases from the index too`, async (t) => {
    const { store } = await factory.open(t);
    const room = freshRoom();
    await say(store, room, 'a', 'alpha bravo');
    await say(store, room, 'a', 'alpha charlie');
    const change = (id: string, text: string, deleted = false) =>
      store.amend(room, id, (m) => ({
        event: { draft: { type: 'edit', room, id, text, from: member('a'), ts: at(1) }, memberId: 'a', msgId: id },
        message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text, ...(deleted ? { deleted: true } : {}) }),
        erase: deleted,
      }));
    await change('id-alpha bravo', 'delta echo');
    assert.deepEqual(await found(store, room, 'bravo'), [], 'not by its old text');
    assert.deepEqual(await found(store, room, 'delta'), [1], 'by its new text');
    const [shown] = await store.search(room, parseQuery('echo'), { limit: 5 });
    assert.equal(JSON.parse(shown?.json ?? '{}').text, 'delta echo', 'shown as it is now');
    await change('id-alpha charlie', '', true);
    assert.deepEqual(await found(store, room, 'alpha'), [], 'a deleted message is never found');
    await store.append({
      draft: { type: 'message', room, id: 'old', from: member('a'), text: 'ancient words', ts: at(-10) },
      memberId: 'a',
    });
    await store.append({
      draft: { type: 'message', room, id: 'new', from: member('a'), text: 'recent words', ts: at(1) },
      memberId: 'a',
    });
    assert.deepEqual(await found(store, room, 'words'), [6, 5]);
    await store.eraseOldEvents(room, dayStart(0), 10);
    assert.deepEqual(await found(store, room, 'ancient'), [], 'an erased message is not found');
    assert.deepEqual(await found(store, room, 'words'), [6], 'what retention keeps is still found');
  });

  test(`${name}: ping answers while open`, async (t) => {
    const { store } = await factory.open(t);
    await store.ping();
  });
}
