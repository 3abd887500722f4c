/**
 * Failures the server survives: each is answered where a client is waiting, logged with its
 * context, and counted in /metrics, and nothing already accepted is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { connect, listen, newRoom, newUid, tempDir, testConfig } from './helpers.js';

/** A SQLite store whose next `failures` appends of messages reject, as a full disk would. */
class FailingStore extends SqliteStore {
  failures = 0;
  override append(input: Parameters<SqliteStore['append']>[0]) {
    if (input.draft.type === 'message' && this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('disk full'));
    }
    return super.append(input);
  }
}

test('a failed append: the sender is told to retry, the failure is logged and counted', async (t) => {
  const store = new FailingStore({ path: `${tempDir(t)}/chat.db`, durability: 'full' });
  const logged: Array<Record<string, unknown>> = [];
  const logger = {
    level: 'error',
    stream: { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) },
  };
  const { ws, app } = await listen(t, testConfig(t), { store, logger });
  const room = newRoom();
  const alice = await connect(ws, room, { uid: newUid() });
  const before = await alice.say('stored');
  store.failures = 1;
  const refused = await alice.say('not stored', 'cm-retry');
  assert.deepEqual([refused.type, refused.code, refused.clientMsgId], ['error', 'unavailable', 'cm-retry']);
  const retried = await alice.say('not stored', 'cm-retry');
  assert.equal(retried.type, 'message');
  assert.equal(retried.seq, before.seq + 1, 'the failed attempt used up no seq');
  const entry = logged.find((l) => l.msg === 'append failed');
  assert.equal(entry?.room, room, 'logged with its room');
  assert.equal(entry?.where, 'append');
  assert.match(String((entry?.err as { message?: string })?.message), /disk full/);
  const metrics = await app.inject('/metrics');
  assert.match(metrics.body, /^roomchat_errors_total\{where="append"\} 1$/m);
});
