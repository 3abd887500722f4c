/**
 * Search (PROTOCOL.md v2, Search): how text becomes terms and a query phrases (one module for both
 * stores and the page), the search and scrollback-around API, and a deleted message's terms leaving
 * the SQLite file. What each store finds is in the store contract (history-store.contract.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { indexText, matchedRanges, parseQuery, QUERY_WORDS_MAX, termsOf, WORD_MAX } from '../src/shared/search.js';
import { ManualClock } from './clock.js';
import { build, connect, type Frame, listen, newRoom, newUid, seedMessages, tempDir, testConfig } from './helpers.js';

test('a text is indexed as its lower-cased words and the pairs of its Chinese or Japanese runs', () => {
  assert.equal(indexText('The QUICK, brown fox!'), 'the quick brown fox');
  assert.equal(indexText('Tokyo東京タワー trip'), 'tokyo 東京 京タ タワ ワー ー trip');
  assert.equal(indexText('ＦＵＬＬ width ｶﾀｶﾅ ﬁne'), 'full width カタ タカ カナ ナ fine', 'compatibility forms fold');
  assert.equal(indexText('cafe\u0301 Ünïcödé naïve'), 'café ünïcödé naïve', 'accents are kept, NFC');
  assert.equal(indexText('emoji 🎉 and — punctuation'), 'emoji and punctuation');
  assert.equal(indexText('x'.repeat(WORD_MAX + 10)), 'x'.repeat(WORD_MAX), 'a long word counts by its first letters');
  for (const text of ['Hello, World! 123 under_score e-mail', 'x'.repeat(WORD_MAX + 1), 'ASCII  only\ttext']) {
    assert.equal(
      indexText(text),
      termsOf(text)
        .map((t) => t.term)
        .join(' '),
      `the ASCII shortcut agrees: ${text}`,
    );
  }
});

test('a query is one phrase per word; a lone Chinese or Japanese character at the end of a word is a prefix', () => {
  assert.deepEqual(parseQuery('  Fox   QUICK '), [
    { terms: ['fox'], prefix: false },
    { terms: ['quick'], prefix: false },
  ]);
  assert.deepEqual(parseQuery('e-mail'), [{ terms: ['e', 'mail'], prefix: false }]);
  assert.deepEqual(parseQuery('良い天気'), [{ terms: ['良い', 'い天', '天気'], prefix: false }]);
  assert.deepEqual(parseQuery('東'), [{ terms: ['東'], prefix: true }]);
  assert.deepEqual(parseQuery('東京tower'), [{ terms: ['東京', '京', 'tower'], prefix: false }]);
  assert.deepEqual(parseQuery('!!! 😀'), [], 'nothing searchable');
  const many = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
  assert.equal(parseQuery(many).length, QUERY_WORDS_MAX, 'the first 16 words count');
  const lone = parseQuery('あ い う え お か 東京');
  assert.deepEqual(
    lone.map((p) => p.terms.join('')),
    ['あ', 'い', 'う', 'え', '東京'],
    'at most 4 lone characters (prefixes) count',
  );
});

test('an index made without indexing, or by another Unicode version, is built again at start', async (t) => {
  const path = join(tempDir(t), 'chat.db');
  const say = (store: SqliteStore, text: string, n: number) =>
    store.append({
      draft: {
        type: 'message',
        room: 'r',
        id: `m${n}`,
        from: { id: 'x', name: 'X' },
        text,
        ts: new Date().toISOString(),
      },
      memberId: 'x',
    });
  const unindexed = new SqliteStore({ path, searchIndex: false });
  await say(unindexed, 'alpha bravo', 1);
  await unindexed.close();
  const store = new SqliteStore({ path });
  assert.deepEqual(
    (await store.search('r', parseQuery('alpha'), { limit: 5 })).map((e) => e.seq),
    [1],
    'indexed at start',
  );
  await say(store, 'charlie', 2);
  await store.close();
  const raw = new Database(path);
  raw.prepare("UPDATE settings SET value = '1.0' WHERE key = 'search_terms'").run();
  raw.close();
  const again = new SqliteStore({ path });
  t.after(() => again.close());
  const found = async (q: string) => (await again.search('r', parseQuery(q), { limit: 5 })).map((e) => e.seq);
  assert.deepEqual([await found('bravo'), await found('charlie')], [[1], [2]], 'rebuilt: everything found once');
  await again.amend('r', 'm1', (m) => ({
    event: {
      draft: { type: 'delete', room: 'r', id: 'm1', by: { id: 'x', name: 'X' }, ts: new Date().toISOString() },
      memberId: 'x',
      msgId: 'm1',
    },
    message: JSON.stringify({ ...JSON.parse(m?.json ?? '{}'), text: '', deleted: true }),
    erase: true,
  }));
  assert.deepEqual(await found('alpha'), [], 'a delete after the rebuild removes its terms');
});

test('the highlighted ranges of a result are the words and substrings that matched', () => {
  const text = 'Quick fox, quickly: 東京タワー!';
  const marked = (q: string) => matchedRanges(text, parseQuery(q)).map(([a, b]) => text.slice(a, b));
  assert.deepEqual(marked('QUICK'), ['Quick'], 'whole words only');
  assert.deepEqual(marked('fox quick'), ['Quick', 'fox']);
  assert.deepEqual(marked('タワー'), ['タワー']);
  assert.deepEqual(marked('京'), ['京']);
  assert.deepEqual(marked('東京タ'), ['東京タ']);
  assert.deepEqual(marked('zebra'), []);
  const wide = 'ＡＢＣ abc';
  assert.deepEqual(
    matchedRanges(wide, parseQuery('abc')).map(([a, b]) => wide.slice(a, b)),
    ['ＡＢＣ', 'abc'],
    'offsets are into the text as shown',
  );
});

test('GET search: newest first, before and limit, q checked; the room name is canonical', async (t) => {
  const app = await build(t);
  await seedMessages(app.store, 'findme', 30);
  const get = async (qs: string) => app.inject(`/api/rooms/FINDME/search${qs}`);
  const all = (await get('?q=3')).json();
  assert.deepEqual(
    all.events.map((e: Frame) => e.seq),
    [3],
    'the whole word only: not 13, 23 or 30',
  );
  const page = (await get(`?q=${encodeURIComponent('1')}&limit=1`)).json();
  assert.deepEqual([page.room, page.events.length, page.hasMore], ['findme', 1, false]);
  for (const qs of ['', '?q=', '?q=%20%20', `?q=${'x'.repeat(201)}`, '?q=a&limit=0', '?q=a&before=0']) {
    const r = await get(qs);
    assert.equal(r.statusCode, 400, qs);
  }
  assert.equal((await get(`?q=${'y'.repeat(200)}`)).statusCode, 200);
  assert.equal((await app.inject('/api/rooms/bad!/search?q=a')).statusCode, 400);
});

test('GET scrollback around a message: the page holding it, with what is older and newer; after pages forward', async (t) => {
  const app = await build(t);
  await seedMessages(app.store, 'around', 100);
  const get = async (qs: string) => (await app.inject(`/api/rooms/around/messages${qs}`)).json();
  const mid = await get('?around=50&limit=11');
  assert.deepEqual(
    mid.events.map((e: Frame) => e.seq),
    [45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55],
  );
  assert.deepEqual([mid.hasMore, mid.hasNewer], [true, true]);
  const start = await get('?around=2&limit=10');
  assert.deepEqual(start.events[0].seq, 1);
  assert.deepEqual([start.events.length, start.hasMore, start.hasNewer], [10, false, true]);
  const end = await get('?around=100&limit=10');
  assert.deepEqual([end.events.at(-1).seq, end.events.length, end.hasMore, end.hasNewer], [100, 5, true, false]);
  const next = await get('?after=95&limit=3');
  assert.deepEqual([next.events.map((e: Frame) => e.seq), next.hasNewer], [[96, 97, 98], true]);
  const tail = await get('?after=98&limit=3');
  assert.deepEqual([tail.events.map((e: Frame) => e.seq), tail.hasNewer], [[99, 100], false]);
  const both = await app.inject('/api/rooms/around/messages?after=1&before=5');
  assert.equal(both.statusCode, 400, 'one direction at a time');
});

test('a deleted message leaves no term in the search index, its pages or the write-ahead log', async (t) => {
  const path = join(tempDir(t), 'chat.db');
  const { ws, http } = await listen(t, testConfig(t, { sqlitePath: path }), { store: new SqliteStore({ path }) });
  const room = newRoom('erase');
  const alice = await connect(ws, room, { uid: newUid() });
  // a word no other term shares a prefix with, long enough to find in the raw bytes
  const secret = `zq${newUid()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`;
  const m = await alice.say(`say ${secret} twice`);
  const found = async () => (await (await fetch(`${http}/api/rooms/${room}/search?q=${secret}`)).json()).events;
  assert.equal((await found()).length, 1);
  const bytes = () =>
    [path, `${path}-wal`]
      .map((p) => {
        try {
          return readFileSync(p).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
  const tail = secret.slice(-16); // terms share prefixes inside an index page: look for the end
  assert.ok(bytes().includes(tail), 'the term is in the file while the message stands (the check can fail)');
  alice.send({ type: 'delete', id: m.id });
  await alice.next('delete');
  assert.deepEqual(await found(), [], 'not found');
  await alice.say('a later message'); // the checkpoint after the delete has run by the time this is stored
  assert.equal(bytes().includes(tail), false, 'the term is nowhere in the files');
});

/**
 * A costly query for its index: every message holds the pairs あい and いう, never next to each
 * other, so the phrase あいう (a run of three: its pairs in order) has to check the positions in
 * every message of the room and finds none.
 */
const costly = 'あいう';
const katakana = (i: number) =>
  Array.from({ length: 30 }, (_, k) => String.fromCodePoint(0x30a1 + ((i * 7 + k * 13) % 80))).join('');
const kana = (i: number) => `あい${katakana(i)}いう${katakana(i + 1)}`;

test('SQLite: a search past SEARCH_TIMEOUT_MS is stopped and answered 503; the next one is answered', async (t) => {
  const path = join(tempDir(t), 'chat.db');
  const store = new SqliteStore({ path, searchTimeoutMs: 1 });
  const { http } = await listen(t, testConfig(t, { sqlitePath: path }), { store });
  const room = newRoom('slow');
  for (let i = 0; i < 60_000; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, k) =>
        store.append({
          draft: {
            type: 'message',
            room,
            id: `m${i + k}`,
            from: { id: 'x', name: 'X' },
            text: kana(i + k),
            ts: new Date().toISOString(),
          },
          memberId: 'x',
        }),
      ),
    );
  }
  // start the worker first: a query sent while it starts may run before its "ready" is read,
  // and is then timed only from that moment (the watchdog does not count the worker's start)
  let warm = 0;
  for (let i = 0; i < 50 && warm !== 200; i++) warm = (await fetch(`${http}/api/rooms/nobody-here/search?q=x`)).status;
  assert.equal(warm, 200);
  const slow = await fetch(`${http}/api/rooms/${room}/search?q=${encodeURIComponent(costly)}`);
  assert.equal(slow.status, 503, 'stopped after 1 ms');
  assert.equal(slow.headers.get('retry-after'), '1');
  assert.equal(((await slow.json()) as Frame).error, 'unavailable');
  const fresh = newRoom('quick');
  await store.append({
    draft: {
      type: 'message',
      room: fresh,
      id: 'q',
      from: { id: 'x', name: 'X' },
      text: 'quick one',
      ts: new Date().toISOString(),
    },
    memberId: 'x',
  });
  // a new worker answers the next search (a room of one message is found within 1 ms, or retried)
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++)
    status = (await fetch(`${http}/api/rooms/${fresh}/search?q=quick`)).status;
  assert.equal(status, 200, 'searching works again');
});

test('a search takes a token of the client address: past its rate, 429', async (t) => {
  // time stands still: no token comes back between the searches, however slow the machine
  const { http } = await listen(t, testConfig(t, { rateLimitPerIpPerSec: 1 }), { clock: new ManualClock() });
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(`${http}/api/rooms/limited/search?q=x`)).status);
  assert.deepEqual(statuses, [200, 200, 429, 429], 'a burst of twice the rate, then refused');
});
