/**
 * Compressed responses (Brotli or gzip, as the client accepts) for what compresses: pages,
 * scripts, styles, JSON. Bodies under 1 KiB go as they are, and so do stored files (`/files/`:
 * images are compressed already, and a download keeps its bytes and ranges). Request bodies are
 * taken as they come: a `Content-Encoding` on a request is not undone.
 * @see https://github.com/fastify/fastify-compress
 */
import compress from '@fastify/compress';
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    // compression of replies only: request bodies are never inflated (an upload stays its bytes,
    // and a small compressed body cannot become a large one here)
    await app.register(compress, {
      globalCompression: true,
      globalDecompression: false,
      threshold: 1024,
      encodings: ['br', 'gzip'],
    });
  },
  { name: 'compress' },
);
