/**
 * Builds the Fastify app from a Config; never listens (server.ts does, tests inject).
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type BackendOverrides, openBackends } from './backends.js';
import { type Clock, systemClock } from './chat/clock.js';
import type { Config } from './config.js';
import { createMetrics } from './metrics.js';
import chatPlugin from './plugins/chat.js';
import connectionsPlugin from './plugins/connections.js';
import hostPlugin from './plugins/host.js';
import securityPlugin from './plugins/security.js';
import staticPlugin from './plugins/static.js';
import viewPlugin from './plugins/view.js';
import websocketPlugin from './plugins/websocket.js';
import apiRoutes from './routes/api.js';
import healthRoutes from './routes/health.js';
import pageRoutes from './routes/pages.js';
import wsRoutes from './routes/ws.js';

export interface BuildOptions extends BackendOverrides {
  /** Fastify's logger option (its serializers are always ours: no uid is logged). @default pino at config.logLevel */
  logger?: FastifyServerOptions['logger'];
  /** The clock of the chat (rate limits, grace periods, waits, heartbeat, timestamps). @default systemClock */
  clock?: Clock;
}

/** A member's uid is its secret: a URL is logged without it. */
export function redactUid(url: string): string {
  return url.replace(/([?&]uid=)[^&#]*/g, '$1[redacted]');
}

function requestForLog(req: FastifyRequest) {
  return { method: req.method, url: redactUid(req.url), remoteAddress: req.ip };
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            ...(typeof options.logger === 'object' ? options.logger : {}),
            serializers: { req: requestForLog },
          },
    // a reverse proxy's idle WebSocket must not count against the HTTP keep-alive
    forceCloseConnections: 'idle',
  });
  const metrics = createMetrics();
  const clock = options.clock ?? systemClock;
  const backends = await openBackends(config, app.log, options, clock, metrics.observer);
  // member ids must be the same on every instance and after restarts: the secret lives in the store
  const secret = config.serverSecret ?? (await backends.store.secret(randomBytes(32).toString('base64url')));
  app.log.info({ mode: backends.mode }, 'backends ready');
  await app.register(connectionsPlugin);
  await app.register(websocketPlugin, { config });
  await app.register(chatPlugin, { config, backends, secret, metrics, clock });
  await app.register(hostPlugin, { publicUrl: config.publicUrl });
  await app.register(securityPlugin);
  await app.register(viewPlugin);
  await app.register(staticPlugin);
  await app.register(pageRoutes);
  await app.register(apiRoutes);
  await app.register(healthRoutes, { registry: metrics.registry, metricsToken: config.metricsToken });
  await app.register(wsRoutes, { allowedOrigins: config.allowedOrigins });
  return app;
}
