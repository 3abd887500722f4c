/**
 * Files (PROTOCOL.md v2, "Files") through the app: upload, attach, serve (type, headers, ETag,
 * Range, thumbnail), erase with the message, and the hour an unattached upload is kept.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { ChatFile } from '../src/chat/protocol.js';
import { DiskFileStore } from '../src/files/disk.js';
import type { FileStore } from '../src/files/file-store.js';
import { ManualClock } from './clock.js';
import { type Client, connect, listen, newRoom, newUid, testConfig } from './helpers.js';

async function upload(http: string, room: string, uid: string, name: string, bytes: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${http}/api/rooms/${room}/files`, {
    method: 'POST',
    body: form,
    headers: { 'X-Chat-Uid': uid },
  });
  return { status: res.status, body: (await res.json()) as { file: ChatFile } };
}

const send = async (c: Client, frame: Record<string, unknown>) => {
  c.send(frame);
  return c.next(
    (f) => f.clientMsgId === frame.clientMsgId || (f.type === 'delete' && f.id === frame.id) || f.type === 'error',
  );
};

test('an image is uploaded, attached, served with its headers and a thumbnail, and erased with its message', async (t) => {
  const { ws, http } = await listen(t);
  const room = newRoom('files');
  const uid = newUid();
  const alice = await connect(ws, room, { uid });
  const png = await sharp({ create: { width: 1200, height: 600, channels: 3, background: '#36c' } })
    .png()
    .toBuffer();
  assert.equal((await upload(http, room, newUid(), 'x.png', png)).status, 403, 'not a connected member');
  const up = await upload(http, room, uid, 'dir/../photo.png', png);
  assert.equal(up.status, 201);
  assert.deepEqual([up.body.file.type, up.body.file.width], ['image/png', 1200]);
  const m = await send(alice, { type: 'message', text: '', files: [up.body.file.id], clientMsgId: 'f1' });
  assert.deepEqual(m.files, [up.body.file], 'a message of files only');
  const url = `${http}/files/${up.body.file.id}`;
  const served = await fetch(url);
  assert.equal(served.headers.get('content-type'), 'image/png');
  assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(served.headers.get('content-security-policy'), "default-src 'none'; sandbox");
  assert.match(served.headers.get('cache-control') ?? '', /immutable/);
  const etag = served.headers.get('etag') ?? '';
  assert.equal((await fetch(url, { headers: { 'If-None-Match': etag } })).status, 304);
  const part = await fetch(url, { headers: { Range: 'bytes=0-9' } });
  assert.deepEqual([part.status, (await part.arrayBuffer()).byteLength], [206, 10]);
  const thumb = await sharp(Buffer.from(await (await fetch(`${url}/thumb`)).arrayBuffer())).metadata();
  assert.deepEqual([thumb.format, thumb.width, thumb.height], ['webp', 480, 240]);
  await send(alice, { type: 'delete', id: m.id });
  assert.equal((await fetch(url)).status, 404);
  assert.equal((await fetch(`${url}/thumb`)).status, 404);
});

test('anything that is not an image is an attachment; an upload never attached goes after an hour', async (t) => {
  const clock = new ManualClock();
  const { ws, http, app } = await listen(t, testConfig(t, { pingIntervalMs: 10 * 3600_000 }), { clock });
  const room = newRoom('files');
  const uid = newUid();
  await connect(ws, room, { uid });
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  const up = await upload(http, room, uid, 'logo.png', svg);
  assert.equal(up.body.file.type, 'application/octet-stream', 'not from the name');
  const served = await fetch(`${http}/files/${up.body.file.id}`);
  assert.equal(served.headers.get('content-type'), 'application/octet-stream');
  assert.match(served.headers.get('content-disposition') ?? '', /^attachment; .*filename\*=UTF-8''logo\.png/);
  clock.advance(3600_000);
  assert.equal((await app.chat.sweep()).files, 0, 'not before the hour is over');
  clock.advance(1);
  assert.equal((await app.chat.sweep()).files, 1);
  assert.equal((await fetch(`${http}/files/${up.body.file.id}`)).status, 404);
});

test('an upload over MAX_FILE_BYTES is refused with 413', async (t) => {
  const { ws, http } = await listen(t, testConfig(t, { maxFileBytes: 1024 }));
  const room = newRoom('files');
  const uid = newUid();
  await connect(ws, room, { uid });
  assert.equal((await upload(http, room, uid, 'big.bin', Buffer.alloc(1025))).status, 413);
  assert.equal((await upload(http, room, uid, 'fits.bin', Buffer.alloc(1024))).status, 201);
});

test('hostile uploads are kept as harmless bytes or refused, never served as what they pretend to be', async (t) => {
  const { ws, http } = await listen(t);
  const room = newRoom('hostile');
  const uid = newUid();
  await connect(ws, room, { uid });
  const served = async (id: string) => {
    const res = await fetch(`${http}/files/${id}`);
    return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  const passwd = await upload(http, room, uid, '../../etc/passwd', Buffer.from('root:x:0:0'));
  assert.equal(passwd.status, 201);
  assert.equal(passwd.body.file.name, 'passwd', 'the last path segment only');

  const empty = await upload(http, room, uid, 'empty.txt', Buffer.alloc(0));
  assert.deepEqual([empty.status, empty.body.file.type, empty.body.file.size], [201, 'application/octet-stream', 0]);

  const html = await upload(http, room, uid, 'x.png', Buffer.from('<!doctype html><script>alert(1)</script>'));
  assert.equal(html.body.file.type, 'application/octet-stream');
  assert.equal((await served(html.body.file.id)).type, 'application/octet-stream');

  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const tail = '<html><script>alert("polyglot")</script></html>';
  const polyglot = await upload(http, room, uid, 'poly.png', Buffer.concat([png, Buffer.from(tail)]));
  assert.equal(polyglot.body.file.type, 'image/png');
  assert.equal((await served(polyglot.body.file.id)).bytes.includes(tail), false, 're-encoded: the tail is gone');

  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
    .jpeg()
    .toBuffer();
  const truncated = await upload(http, room, uid, 'cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  assert.equal(truncated.status, 201, 'a broken image is no crash');
  assert.ok(['image/jpeg', 'application/octet-stream'].includes(truncated.body.file.type));

  // a PNG header announcing 30000 × 30000 pixels (900 megapixels): refused before any decoding
  const header = Buffer.from(png);
  header.writeUInt32BE(30000, 16);
  header.writeUInt32BE(30000, 20);
  assert.equal((await upload(http, room, uid, 'bomb.png', header)).status, 413);

  const gps = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#4a4' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'SpyCam', Model: 'GPS-1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1' },
    })
    .toBuffer();
  assert.ok(gps.includes('SpyCam'), 'setup: the upload carries EXIF');
  const clean = await upload(http, room, uid, 'where.jpg', gps);
  const bytes = (await served(clean.body.file.id)).bytes;
  assert.equal(bytes.includes('SpyCam') || bytes.includes('Exif'), false, 'no EXIF (nor its GPS) is served');
  assert.equal((await sharp(bytes).metadata()).exif, undefined);
});

test('a deleted message’s files are gone before anyone hears of the deletion, however slow the erase', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const disk = await DiskFileStore.open(dir);
  // the erase is held (as a PostgreSQL round trip in a cluster may be) until the test lets it go
  let erasing: () => void = () => {};
  const called = new Promise<void>((resolve) => {
    erasing = resolve;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const heldErase = async (ids: string[]) => {
    erasing();
    await released;
    return disk.erase(ids);
  };
  // the disk store, but for its erase (its methods keep their own `this`: it has private fields)
  const files = new Proxy(disk, {
    get(target, prop) {
      if (prop === 'erase') return heldErase;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as FileStore;
  const { ws, http } = await listen(t, testConfig(t), { files });
  const room = newRoom('erase');
  const uid = newUid();
  const alice = await connect(ws, room, { uid });
  const bob = await connect(ws, room);
  const carol = await connect(ws, room);
  const png = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#c63' } })
    .png()
    .toBuffer();
  const up = await upload(http, room, uid, 'a.png', png);
  const m = await send(alice, { type: 'message', text: 'with a file', files: [up.body.file.id], clientMsgId: 'e1' });
  await bob.next((f) => f.type === 'message' && f.id === m.id);
  alice.send({ type: 'delete', id: m.id });
  await called;
  // while the erase is held, nobody has heard of the deletion: Carol's typing, sent after it,
  // reaches Bob first
  carol.send({ type: 'typing' });
  await bob.next((f) => f.type === 'typing' && f.member.id === carol.id);
  assert.equal(bob.frames.filter((f) => f.type === 'delete').length, 0, 'no delete event before the erase');
  release();
  await bob.next((f) => f.type === 'delete' && f.id === m.id);
  assert.equal((await fetch(`${http}/files/${up.body.file.id}`)).status, 404, 'gone when the deletion is seen');
});
