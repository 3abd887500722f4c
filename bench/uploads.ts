/**
 * Memory of uploads: ten 10 MiB files sent at once to one member's room, and the server's RSS
 * (from /proc) before and at its highest while they are taken in. Run after `npm run build`:
 *   node --import tsx bench/uploads.ts            (random bytes: kept as files, streamed to disk)
 *   node --import tsx bench/uploads.ts --images   (PNG images: decoded and re-encoded by sharp)
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import WebSocket from 'ws';
import { ServerProcess } from './lib/servers.js';

const FILES = 10;
const SIZE = 10 * 1024 * 1024;
const images = process.argv.includes('--images');

const server = new ServerProcess({ kind: 'roomchat', core: 0, env: { MAX_FILE_BYTES: String(SIZE) } });
await server.start();
try {
  const uid = `bench${randomBytes(8).toString('hex')}`;
  const ws = new WebSocket(`${server.ws}/ws?room=uploads&uid=${uid}`);
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  // an image of about 10 MiB as PNG: noise does not compress
  const body = images
    ? await sharp(randomBytes(1800 * 1800 * 3), { raw: { width: 1800, height: 1800, channels: 3 } })
        .png()
        .toBuffer()
    : randomBytes(SIZE);
  const before = server.rssKiB();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.rssKiB());
  }, 5);
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: FILES }, async (_, i) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(body)]), images ? `image-${i}.png` : `data-${i}.bin`);
      const res = await fetch(`http://127.0.0.1:${server.port}/api/rooms/uploads/files`, {
        method: 'POST',
        body: form,
        headers: { 'X-Chat-Uid': uid },
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, server.rssKiB());
  ws.close();
  console.log(
    `${FILES} uploads of ${(body.length / 1024 / 1024).toFixed(1)} MiB (${images ? 'PNG images' : 'random bytes'}) at once`,
  );
  console.log(`statuses: ${statuses.join(' ')}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(
    `server RSS: ${(before / 1024).toFixed(0)} MiB before, ${(peak / 1024).toFixed(0)} MiB at most: growth ${((peak - before) / 1024).toFixed(0)} MiB`,
  );
} finally {
  await server.stop();
}
