import pg from 'pg';
import { PostgresStore } from '../src/chat/store/postgres.js';
import { PostgresFileStore } from '../src/files/postgres.js';
import { fileStoreContract } from './file-store.contract.js';
import { TEST_DATABASE_URL } from './services.js';

fileStoreContract('PostgresFileStore', async (t) => {
  // the history store's migrations create the table
  await (await PostgresStore.open({ connectionString: TEST_DATABASE_URL, poolSize: 1 })).close();
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  t.after(() => pool.end());
  return new PostgresFileStore(pool);
});
