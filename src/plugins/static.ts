/**
 * The browser client and its assets: public/, and dist/public/ for what the build makes for the
 * browser (js/rules.js from src/shared/, the vendored markdown-it and emoji picker).
 *
 * Pages name them under `/assets/v/VERSION/`, VERSION being a hash of every asset's path and
 * bytes. Those are served from a snapshot read at start, the very bytes the hash was made of, so
 * a URL never changes content: cached for a year as `immutable`, and a page load asks for
 * nothing it has. A request for another VERSION (a page of another release, behind the same load
 * balancer as this one) gets this release's file with `no-cache`, never a 404. Relative imports
 * between modules stay under one VERSION. `/assets/NAME` without a version serves the files on
 * disk with revalidation (`max-age=0` and an ETag), for links from older pages. Type
 * declarations and dotfiles are never served.
 * @see https://github.com/fastify/fastify-static
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { PROJECT_ROOT } from '../paths.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where pages find the assets: `/assets/v/VERSION`. */
    assetBase: string;
  }
}

const ROOTS = [resolve(PROJECT_ROOT, 'public'), resolve(PROJECT_ROOT, 'dist', 'public')];
const HIDDEN = /(^|\/)\.|\.d\.m?ts$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface Asset {
  bytes: Buffer;
  type: string;
  etag: string;
}

/**
 * Every servable file under the roots, by its path under /assets/ (the first root wins, as for
 * the unversioned route), and the version: a hash of their paths and bytes.
 */
export function snapshotAssets(roots: readonly string[] = ROOTS): { version: string; files: Map<string, Asset> } {
  const files = new Map<string, Asset>();
  for (const root of roots) {
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const name = relative(root, path).split('\\').join('/');
        if (HIDDEN.test(name)) continue;
        if (entry.isDirectory()) visit(path);
        else if (!files.has(name)) {
          const bytes = readFileSync(path);
          const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 16)}"`;
          files.set(name, { bytes, type: TYPES[extname(name)] ?? 'application/octet-stream', etag });
        }
      }
    };
    try {
      visit(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort())
    hash
      .update(name)
      .update('\0')
      .update(files.get(name)?.etag ?? '');
  return { version: hash.digest('base64url').slice(0, 12), files };
}

export default fp(
  async (app) => {
    const { version, files } = snapshotAssets();
    app.decorate('assetBase', `/assets/v/${version}`);
    app.get<{ Params: { version: string; '*': string } }>('/assets/v/:version/*', async (req, reply) => {
      const asset = files.get(req.params['*']);
      if (!asset) return reply.code(404).send({ error: 'not_found', message: 'no such asset' });
      reply.header('etag', asset.etag).type(asset.type);
      // another release's URL: this release's bytes, but only for now
      reply.header(
        'cache-control',
        req.params.version === version ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.bytes);
    });
    await app.register(fastifyStatic, {
      root: ROOTS,
      prefix: '/assets/',
      index: false,
      dotfiles: 'deny',
      allowedPath: (path) => !HIDDEN.test(path.replace(/^\//, '')),
    });
  },
  { name: 'static' },
);
