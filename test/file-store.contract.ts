/** The FileStore contract, run against every implementation (file-store-*.test.ts). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import type { FileStore, StoredFile } from '../src/files/file-store.js';

export type MakeFileStore = (t: TestContext) => Promise<FileStore>;

const newId = () => randomBytes(18).toString('base64url');
const record = (room: string, memberId: string, at = 1000): StoredFile => ({
  file: { id: newId(), name: 'a.txt', type: 'application/octet-stream', size: 3 },
  room,
  memberId,
  at,
  messageId: null,
});

export function fileStoreContract(name: string, make: MakeFileStore): void {
  test(`${name}: a file and its thumbnail are kept and read back; unknown ids are null`, async (t) => {
    const store = await make(t);
    const image = {
      ...record('r', 'a'),
      file: { id: newId(), name: 'p.png', type: 'image/png', size: 4, width: 2, height: 1 },
    };
    await store.put(image, Buffer.from('png!'), Buffer.from('webp'));
    assert.deepEqual(await store.get(image.file.id), image);
    assert.deepEqual(await store.read(image.file.id, false), Buffer.from('png!'));
    assert.deepEqual(await store.read(image.file.id, true), Buffer.from('webp'));
    const plain = record('r', 'a');
    await store.put(plain, Buffer.from('abc'), null);
    assert.equal(await store.read(plain.file.id, true), null, 'no thumbnail');
    assert.equal(await store.get(newId()), null);
    assert.equal(await store.read(newId(), false), null);
  });

  test(`${name}: attaching is all or none: own, same room, not attached yet`, async (t) => {
    const store = await make(t);
    const [a1, a2, other, elsewhere] = [record('r', 'a'), record('r', 'a'), record('r', 'b'), record('s', 'a')];
    for (const r of [a1, a2, other, elsewhere]) await store.put(r, Buffer.from('abc'), null);
    assert.equal(await store.attach([a1.file.id, other.file.id], 'r', 'a', 'm0'), null, "another member's");
    assert.equal(await store.attach([a1.file.id, elsewhere.file.id], 'r', 'a', 'm0'), null, 'another room');
    assert.equal(await store.attach([a1.file.id, a1.file.id], 'r', 'a', 'm0'), null, 'twice');
    assert.equal((await store.get(a1.file.id))?.messageId, null, 'nothing changed');
    assert.deepEqual(
      await store.attach([a2.file.id, a1.file.id], 'r', 'a', 'm1'),
      [a2.file, a1.file],
      'in the order asked',
    );
    assert.equal(await store.attach([a1.file.id], 'r', 'a', 'm2'), null, 'attached already');
    const racing = await Promise.all([
      store.attach([other.file.id], 'r', 'b', 'x'),
      store.attach([other.file.id], 'r', 'b', 'y'),
    ]);
    assert.equal(racing.filter((r) => r !== null).length, 1, 'one message gets it');
    await store.detach([a1.file.id, a2.file.id], 'm1');
    assert.deepEqual(await store.attach([a1.file.id], 'r', 'a', 'm3'), [a1.file], 'free again after detach');
  });

  test(`${name}: erase removes files and thumbnails; unattached lists those past a time`, async (t) => {
    const store = await make(t);
    const old = record('r', 'a', 1000);
    const young = record('r', 'a', 5000);
    const held = record('r', 'a', 1000);
    for (const r of [old, young, held]) await store.put(r, Buffer.from('abc'), Buffer.from('t'));
    await store.attach([held.file.id], 'r', 'a', 'm');
    const due = await store.unattached(2000, 1000);
    assert.ok(due.includes(old.file.id));
    assert.ok(!due.includes(young.file.id) && !due.includes(held.file.id));
    await store.erase([old.file.id]);
    assert.equal(await store.get(old.file.id), null);
    assert.equal(await store.read(old.file.id, false), null);
    assert.equal(await store.read(old.file.id, true), null);
    assert.ok(!(await store.unattached(2000, 1000)).includes(old.file.id));
  });
}
