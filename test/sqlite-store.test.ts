import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { parseQuery } from '../src/shared/search.js';
import { tempDir } from './helpers.js';
import { historyStoreContract } from './history-store.contract.js';

historyStoreContract('SqliteStore', {
  async open(t) {
    const path = join(tempDir(t), 'nested', 'chat.db');
    const store = new SqliteStore({ path });
    t.after(() => store.close());
    return { store, reopen: async () => new SqliteStore({ path }) };
  },
});

test('SqliteStore creates its folder and refuses a file from a newer version', async (t) => {
  const path = join(tempDir(t), 'a', 'b', 'chat.db');
  const store = new SqliteStore({ path });
  await store.close();
  assert.ok(existsSync(path));
  const db = new Database(path);
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => new SqliteStore({ path }), /schema version 99/);
});

test('SqliteStore: appends issued together commit together and are acknowledged in the order issued', async (t) => {
  const store = new SqliteStore({ path: join(tempDir(t), 'chat.db') });
  t.after(() => store.close());
  const order: number[] = [];
  const appends = Array.from({ length: 50 }, (_, i) =>
    store
      .append({
        draft: { type: 'message', room: 'g', id: `m${i}`, from: { id: 'a', name: 'A' }, text: `${i}`, ts: 'T' },
        memberId: 'a',
      })
      .then((r) => {
        order.push(i);
        return r.event.seq;
      }),
  );
  const seqs = await Promise.all(appends);
  assert.deepEqual(
    seqs,
    Array.from({ length: 50 }, (_, i) => i + 1),
    'seq follows the order of the calls',
  );
  assert.deepEqual(
    order,
    Array.from({ length: 50 }, (_, i) => i),
    'acknowledged in that order too',
  );
});

test('SqliteStore: a file of the version before rooms were tracked keeps its seqs after the upgrade', async (t) => {
  const path = join(tempDir(t), 'chat.db');
  // the schema of versions 1 and 2, with a room of three events
  const db = new Database(path);
  db.exec(`CREATE TABLE events (room TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
             member_id TEXT NOT NULL, client_msg_id TEXT, json TEXT NOT NULL, PRIMARY KEY (room, seq)) WITHOUT ROWID;
           CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, NULL, ?)');
  for (const seq of [1, 2, 3]) {
    insert.run(
      'old',
      seq,
      'message',
      'a',
      `{"type":"message","room":"old","seq":${seq},"id":"m${seq}","text":"old ${seq}"}`,
    );
  }
  db.pragma('user_version = 2');
  db.close();
  const store = new SqliteStore({ path });
  t.after(() => store.close());
  assert.equal(await store.latestSeq('old'), 3);
  const next = await store.append({
    draft: {
      type: 'message',
      room: 'old',
      id: 'n',
      from: { id: 'a', name: 'A' },
      text: 'new',
      ts: new Date().toISOString(),
    },
    memberId: 'a',
  });
  assert.equal(next.event.seq, 4);
  assert.deepEqual(await store.rooms('', 10), ['old']);
  const found = await store.search('old', parseQuery('old'), { limit: 10 });
  assert.deepEqual(
    found.map((e) => e.seq),
    [3, 2, 1],
    'the messages stored before search existed are found',
  );
});
