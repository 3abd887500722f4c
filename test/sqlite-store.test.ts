import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/chat/store/sqlite.js';
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
