import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { SearchUnavailable } from '../src/chat/store/history-store.js';
import { MIGRATIONS, PostgresStore } from '../src/chat/store/postgres.js';
import { tsvectorOf } from '../src/chat/store/shared.js';
import { indexText, parseQuery } from '../src/shared/search.js';
import { historyStoreContract } from './history-store.contract.js';
import { TEST_DATABASE_URL } from './services.js';

const open = () => PostgresStore.open({ connectionString: TEST_DATABASE_URL, poolSize: 4 });

historyStoreContract('PostgresStore', {
  async open(t) {
    const store = await open();
    t.after(() => store.close().catch(() => {}));
    return { store, reopen: open };
  },
});

const message = (room: string, text: string, clientMsgId?: string) => ({
  draft: { type: 'message' as const, room, id: text, from: { id: 'a', name: 'A' }, text, ts: new Date().toISOString() },
  memberId: 'a',
  clientMsgId,
});

test('PostgresStore: two instances appending to one room at once share one gap-free log', async (t) => {
  const [one, two] = await Promise.all([open(), open()]);
  t.after(() => Promise.all([one.close(), two.close()]));
  const room = `pg-race-${Math.random().toString(36).slice(2)}`;
  const results = await Promise.all(
    Array.from({ length: 80 }, (_, i) => (i % 2 ? one : two).append(message(room, `m${i}`))),
  );
  const seqs = results.map((r) => r.event.seq).sort((a, b) => a - b);
  assert.deepEqual(
    seqs,
    Array.from({ length: 80 }, (_, i) => i + 1),
  );
  assert.equal(await two.latestSeq(room), 80);
});

test('PostgresStore: the same clientMsgId sent to two instances at once is stored once', async (t) => {
  const [one, two] = await Promise.all([open(), open()]);
  t.after(() => Promise.all([one.close(), two.close()]));
  const room = `pg-dup-${Math.random().toString(36).slice(2)}`;
  const [x, y] = await Promise.all([
    one.append(message(room, 'raced', 'cm')),
    two.append(message(room, 'raced', 'cm')),
  ]);
  assert.deepEqual(x.event, y.event);
  assert.deepEqual([x.duplicate, y.duplicate].sort(), [false, true]);
  assert.equal(await one.latestSeq(room), 1, 'no seq was used up by the duplicate');
});

test('PostgresStore: migrations are recorded and run once however many instances start', async (t) => {
  const stores = await Promise.all([open(), open(), open()]);
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  t.after(() => client.end());
  const { rows } = await client.query('SELECT version FROM roomchat_migrations ORDER BY version');
  assert.deepEqual(
    rows.map((r) => r.version),
    MIGRATIONS.map((_, i) => i + 1),
  );
});

test('PostgresStore: instances starting at once on an empty database agree on one secret', async (t) => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  t.after(() => admin.end());
  for (let round = 0; round < 5; round++) {
    const name = `roomchat_start_${process.pid}_${round}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
      const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ connectionString: url, poolSize: 2 })));
      try {
        const secrets = await Promise.all(stores.map((s, i) => s.secret(`candidate-secret-${i}-0123456789`)));
        assert.equal(new Set(secrets).size, 1, `round ${round}: one secret for every instance`);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await admin.query(`DROP DATABASE ${name}`);
    }
  }
});

test('PostgresStore: a database of the first schema version opens under the current one and keeps every event', async (t) => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const name = `roomchat_v1_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  t.after(async () => {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
  // the first version's schema and data, as its code wrote them
  const v1 = new pg.Client({ connectionString: url });
  await v1.connect();
  await v1.query(MIGRATIONS[0] as string);
  await v1.query(
    'CREATE TABLE roomchat_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); INSERT INTO roomchat_migrations (version) VALUES (1)',
  );
  const append = (type: string, member: string, body: string) =>
    v1.query('SELECT seq FROM roomchat_append($1, $2, $3, NULL, $4, $5)', [
      'old',
      type,
      member,
      `{"type":"${type}","room":"old","seq":`,
      `,${body},"ts":"2026-01-01T00:00:00.000Z"}`,
    ]);
  await append('join', 'a', '"member":{"id":"a","name":"A"}');
  await append('message', 'a', '"id":"m1","from":{"id":"a","name":"A"},"text":"from v1"');
  await v1.end();
  const store = await PostgresStore.open({ connectionString: url, poolSize: 2 });
  t.after(() => store.close());
  assert.equal(await store.latestSeq('old'), 2);
  assert.equal((await store.read('old', { limit: 10 })).length, 2, 'every event kept');
  assert.equal((await store.findMessage('old', 'm1'))?.seq, 2, 'a message of v1 can be replied to and edited');
  assert.deepEqual((await store.roomInfo('old')).roles, { a: 'owner' }, 'its owner is the member of seq 1');
  const found = await store.search('old', parseQuery('V1'), { limit: 10 });
  assert.deepEqual(
    found.map((e) => e.seq),
    [2],
    'a message of v1 is found by search',
  );
  const next = await store.append({
    draft: {
      type: 'message',
      room: 'old',
      id: 'm2',
      from: { id: 'a', name: 'A' },
      text: 'v2',
      ts: new Date().toISOString(),
    },
    memberId: 'a',
  });
  assert.equal(next.event.seq, 3);
});

test('PostgresStore: a search past its time is cancelled by PostgreSQL and reported as unavailable', async (t) => {
  const store = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, poolSize: 2, searchTimeoutMs: 1 });
  t.after(() => store.close());
  const room = `slow-search-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  t.after(async () => {
    await client.query('DELETE FROM events WHERE room = $1', [room]);
    await client.query('DELETE FROM rooms WHERE room = $1', [room]);
    await client.end();
  });
  // 20,000 messages of kana in one statement, with the terms the store would write
  const kana = (i: number) =>
    Array.from({ length: 30 }, (_, k) => String.fromCodePoint(0x3041 + ((i * 7 + k * 13) % 80))).join('');
  const seqs = Array.from({ length: 20_000 }, (_, i) => i + 1);
  await client.query('INSERT INTO rooms (room, last_seq, last_at) VALUES ($1, $2, 0)', [room, seqs.length]);
  await client.query(
    `INSERT INTO events (room, seq, type, member_id, json, msg_id, words)
     SELECT $1, s, 'message', 'x', '{}', 'm' || s, w::tsvector FROM unnest($2::bigint[], $3::text[]) AS t(s, w)`,
    [room, seqs, seqs.map((i) => tsvectorOf(indexText(kana(i))))],
  );
  // the costliest query there is: 4 lone characters and 12 pairs found in most messages
  const costly = [
    ...Array.from({ length: 4 }, (_, i) => String.fromCodePoint(0x3041 + i)),
    ...Array.from({ length: 12 }, (_, i) => String.fromCodePoint(0x3041 + i * 2, 0x3042 + i * 2)),
  ].join(' ');
  await assert.rejects(store.search(room, parseQuery(costly), { limit: 21 }), SearchUnavailable);
  assert.equal((await store.read(room, { limit: 1 }))[0]?.seq, 20_000, 'the store goes on after the cancel');
});
