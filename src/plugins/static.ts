/**
 * The browser client and its assets: public/, and dist/public/ for what the build makes for the
 * browser (js/rules.js from src/shared/, the vendored markdown-it and emoji picker).
 *
 * Pages name them under `/assets/VERSION/`, VERSION being a hash of every asset's path and bytes
 * computed at start: those URLs never change content, so they are cached for a year as
 * `immutable` and a page load asks for nothing it has; a new release has a new VERSION. Relative
 * imports between modules stay under the same VERSION. `/assets/` without a version serves the
 * same files with revalidation (`max-age=0` and an ETag), for links from older pages.
 * @see https://github.com/fastify/fastify-static
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { PROJECT_ROOT } from '../paths.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where pages find the assets: `/assets/VERSION`. */
    assetBase: string;
  }
}

const ROOTS = [resolve(PROJECT_ROOT, 'public'), resolve(PROJECT_ROOT, 'dist', 'public')];

/** A hash of every file under the roots, by path and content (type declarations aside). */
export function assetVersion(roots: readonly string[] = ROOTS): string {
  const hash = createHash('sha256');
  for (const root of roots) {
    const files: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (!/\.d\.m?ts$/.test(entry.name)) files.push(path);
      }
    };
    try {
      visit(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const file of files.sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file));
  }
  return hash.digest('base64url').slice(0, 12);
}

export default fp(
  async (app) => {
    const version = assetVersion();
    app.decorate('assetBase', `/assets/${version}`);
    await app.register(fastifyStatic, {
      root: ROOTS,
      prefix: `/assets/${version}/`,
      index: false,
      immutable: true,
      maxAge: '365d',
    });
    await app.register(fastifyStatic, {
      root: ROOTS,
      prefix: '/assets/',
      index: false,
      decorateReply: false,
    });
  },
  { name: 'static' },
);
