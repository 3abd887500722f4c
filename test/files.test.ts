/**
 * Files (PROTOCOL.md v2, "Files") through the app: upload, attach, serve (type, headers, ETag,
 * Range, thumbnail), erase with the message, and the hour an unattached upload is kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
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
  return { status: res.status, body: (await res.json()) as { file: { id: string; type: string; width?: number } } };
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
