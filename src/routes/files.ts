/**
 * Files (PROTOCOL.md v2, "Files"): `POST /api/rooms/:room/files` takes one multipart part `file`
 * from a member connected to the room, streamed to a temporary file (cut off past MAX_FILE_BYTES:
 * 413, nothing kept), looked at by its bytes (files/intake.ts) and kept in the FileStore.
 * `GET /files/:id` and `/files/:id/thumb` serve it: images with their type, everything else as an
 * attachment; never sniffed, never run, cached for good (a file never changes), with Range.
 * @see https://github.com/fastify/fastify-multipart
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../chat/clock.js';
import { canonicalRoom } from '../chat/names.js';
import type { ChatFile } from '../chat/protocol.js';
import type { FileStore } from '../files/file-store.js';
import { fileName, intake } from '../files/intake.js';

export interface FilesOptions {
  files: FileStore;
  /** The time of an upload (the janitor erases it an hour later unless a message holds it). */
  clock: Clock;
  maxFileBytes: number;
  allowedOrigins: string[];
}

const SERVED_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cache-control': 'public, max-age=31536000, immutable',
  'cross-origin-resource-policy': 'same-origin',
};

/** `attachment; filename*=UTF-8''…` (RFC 6266 / 5987), with an ASCII fallback name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Send bytes, honouring one `Range: bytes=a-b` (206, or 416 when it cannot be met). */
function sendBytes(reply: FastifyReply, bytes: Buffer, range: string | undefined): FastifyReply {
  reply.header('accept-ranges', 'bytes');
  const m = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return reply.send(bytes);
  const size = bytes.length;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    return reply.code(416).header('content-range', `bytes */${size}`).send();
  }
  return reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .send(bytes.subarray(start, end + 1));
}

export default async function files(app: FastifyInstance, opts: FilesOptions): Promise<void> {
  const allowed = new Set(opts.allowedOrigins);
  await app.register(multipart, { limits: { fileSize: opts.maxFileBytes, files: 1, fields: 0, parts: 1 } });

  app.post<{ Params: { room: string } }>('/api/rooms/:room/files', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin) && !app.isOwnOrigin(origin, req.headers.host)) {
      return reply.code(403).send({ error: 'forbidden_origin', message: `origin ${origin} may not upload` });
    }
    const room = canonicalRoom(req.params.room);
    if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.reason });
    const header = req.headers['x-chat-uid'];
    const uid = typeof header === 'string' ? header : req.cookieUid();
    const admitted = await app.chat.admitUpload(room.value, uid, req.ip ?? 'local');
    if (!admitted.ok) {
      return reply
        .code(admitted.status)
        .send({ error: admitted.status === 429 ? 'rate_limited' : 'forbidden', message: admitted.message });
    }
    if (!req.isMultipart()) return reply.code(400).send({ error: 'bad_request', message: 'send multipart/form-data' });
    const part = await req.file();
    if (part?.fieldname !== 'file') {
      return reply.code(400).send({ error: 'bad_request', message: 'one part named "file" is expected' });
    }
    // to disk, not memory: a 10 MiB upload is read from there by the type check and the re-encode
    const dir = await mkdtemp(join(tmpdir(), 'roomchat-upload-'));
    try {
      const path = join(dir, 'upload');
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) {
        return reply.code(413).send({ error: 'too_large', message: `a file has at most ${opts.maxFileBytes} bytes` });
      }
      const made = await intake(path);
      if (!made.ok) return reply.code(413).send({ error: 'too_large', message: made.reason });
      const file: ChatFile = {
        id: randomBytes(24).toString('base64url'),
        name: fileName(part.filename),
        type: made.type,
        size: made.size,
        ...(made.width !== undefined && made.height !== undefined ? { width: made.width, height: made.height } : {}),
      };
      await opts.files.put(
        { file, room: room.value, memberId: admitted.memberId, at: opts.clock.now(), messageId: null },
        made.body,
        made.thumb,
      );
      return reply.code(201).send({ file });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const serve =
    (thumb: boolean) =>
    async (
      req: { params: { id: string }; headers: Record<string, string | string[] | undefined> },
      reply: FastifyReply,
    ) => {
      const record = await opts.files.get(req.params.id);
      const bytes = record && (await opts.files.read(req.params.id, thumb));
      if (!record || !bytes) return reply.code(404).send({ error: 'not_found', message: 'no such file' });
      const etag = `"${record.file.id}${thumb ? '-t' : ''}"`;
      reply.headers({ ...SERVED_HEADERS, etag });
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      if (thumb) reply.type('image/webp');
      else if (record.file.type.startsWith('image/')) reply.type(record.file.type);
      else reply.type('application/octet-stream').header('content-disposition', attachment(record.file.name));
      const range = req.headers.range;
      return sendBytes(reply, bytes, typeof range === 'string' ? range : undefined);
    };
  // stored bytes go as they are: no compression (plugins/compress.ts), ranges stay byte ranges
  app.get<{ Params: { id: string } }>('/files/:id', { compress: false }, serve(false));
  app.get<{ Params: { id: string } }>('/files/:id/thumb', { compress: false }, serve(true));
}
