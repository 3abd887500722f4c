/**
 * Page rendering with eta from views/, autoescaped (`<%= %>`); decorates `reply.page()`.
 * @see https://eta.js.org
 */
import { resolve } from 'node:path';
import { Eta } from 'eta';
import fp from 'fastify-plugin';
import { PROJECT_ROOT } from '../paths.js';

declare module 'fastify' {
  interface FastifyReply {
    /** Render views/NAME.eta with `data` and send it as HTML. */
    page(name: string, data: Record<string, unknown>): FastifyReply;
  }
}

export default fp(
  async (app) => {
    const eta = new Eta({ views: resolve(PROJECT_ROOT, 'views'), autoEscape: true, cache: true });
    app.decorateReply('page', function (name: string, data: Record<string, unknown>) {
      // pages name the assets of this release (plugins/static.ts)
      const assets = this.server.assetBase;
      return this.type('text/html; charset=utf-8').send(eta.render(`./${name}`, { assets, ...data }));
    });
  },
  { name: 'view' },
);
