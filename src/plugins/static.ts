/**
 * The browser client and its assets, under /assets/.
 * @see https://github.com/fastify/fastify-static
 */
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { PROJECT_ROOT } from '../paths.js';

export default fp(
  async (app) => {
    await app.register(fastifyStatic, { root: resolve(PROJECT_ROOT, 'public'), prefix: '/assets/', index: false });
  },
  { name: 'static' },
);
