/**
 * The browser client and its assets, under /assets/: public/, and dist/public/ for what the build
 * makes for the browser (js/rules.js, from src/shared/).
 * @see https://github.com/fastify/fastify-static
 */
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { PROJECT_ROOT } from '../paths.js';

export default fp(
  async (app) => {
    await app.register(fastifyStatic, {
      root: [resolve(PROJECT_ROOT, 'public'), resolve(PROJECT_ROOT, 'dist', 'public')],
      prefix: '/assets/',
      index: false,
    });
  },
  { name: 'static' },
);
