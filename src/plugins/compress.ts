/**
 * Compressed responses (Brotli or gzip, as the client accepts) for what compresses: pages,
 * scripts, styles, JSON. Bodies under 1 KiB go as they are, and so do stored files (`/files/`:
 * images are compressed already, and a download keeps its bytes and ranges).
 * @see https://github.com/fastify/fastify-compress
 */
import compress from '@fastify/compress';
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  },
  { name: 'compress' },
);
