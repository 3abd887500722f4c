/**
 * Builds the Fastify app from a Config; never listens (server.ts does, tests inject).
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type BackendOverrides, openBackends } from './backends.js';
import { type Clock, systemClock } from './chat/clock.js';
import type { Config } from './config.js';
import { loggerOptions, logRequests, OneLinePerRequest } from './logging.js';
import { fullCollection, MemoryReclaimer } from './memory-reclaimer.js';
import { createMetrics } from './metrics.js';
import chatPlugin from './plugins/chat.js';
import compressPlugin from './plugins/compress.js';
import connectionsPlugin from './plugins/connections.js';
import hostPlugin from './plugins/host.js';
import identityPlugin from './plugins/identity.js';
import securityPlugin from './plugins/security.js';
import staticPlugin from './plugins/static.js';
import viewPlugin from './plugins/view.js';
import websocketPlugin from './plugins/websocket.js';
import apiRoutes from './routes/api.js';
import fileRoutes from './routes/files.js';
import healthRoutes from './routes/health.js';
import pageRoutes from './routes/pages.js';
import wsRoutes from './routes/ws.js';

export interface BuildOptions extends BackendOverrides {
  /** Fastify's logger option (its serializers are always ours: no uid is logged). @default pino at config.logLevel */
  logger?: FastifyServerOptions['logger'];
  /** The clock of the chat (rate limits, grace periods, waits, heartbeat, timestamps). @default systemClock */
  clock?: Clock;
}

/** Request bodies (uploads aside) are at most this large (PROTOCOL.md, "Abuse limits"). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A member's uid is its secret: a URL is logged without it, whatever way its name is written
 * (the query parser decodes names, so `%75id=` is a uid too; `+` is a space).
 */
export function redactUid(url: string): string {
  return url.replace(/([?&])([^=&#]*)=([^&#]*)/g, (whole, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // not valid percent-encoding: compared as written
    }
    return decoded.trim().toLowerCase() === 'uid' ? `${sep}${name}=[redacted]` : whole;
  });
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
            ...loggerOptions(config, process.stdout.isTTY === true),
            ...(typeof options.logger === 'object' ? options.logger : {}),
            serializers: { req: requestForLog },
          },
    // one line per request, from logRequests
    logController: new OneLinePerRequest(),
    // a reverse proxy's idle WebSocket must not count against the HTTP keep-alive
    forceCloseConnections: 'idle',
    // request.ip: the address a trusted proxy reports, else the peer's (per-address limits)
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // a request arrives whole within requestTimeoutMs (checked as often as a tenth of it), or 408
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.requestTimeoutMs / 10))),
    },
    bodyLimit: MAX_BODY_BYTES,
  });
  logRequests(app, redactUid);
  const metrics = createMetrics();
  const clock = options.clock ?? systemClock;
  const backends = await openBackends(config, app.log, options, clock, metrics.observer);
  // member ids must be the same on every instance and after restarts: the secret lives in the store
  const secret = config.serverSecret ?? (await backends.store.secret(randomBytes(32).toString('base64url')));
  app.log.debug({ mode: backends.mode }, 'backends ready');
  await app.register(connectionsPlugin);
  await app.register(websocketPlugin, { config });
  await app.register(chatPlugin, { config, backends, secret, metrics, clock });
  await app.register(hostPlugin, { publicUrl: config.publicUrl });
  await app.register(identityPlugin, { publicUrl: config.publicUrl });
  await app.register(securityPlugin);
  await app.register(compressPlugin);
  await app.register(viewPlugin);
  await app.register(staticPlugin);
  await app.register(pageRoutes);
  await app.register(apiRoutes);
  await app.register(fileRoutes, {
    files: backends.files,
    maxFileBytes: config.maxFileBytes,
    allowedOrigins: config.allowedOrigins,
    clock,
  });
  await app.register(healthRoutes, { registry: metrics.registry, metricsToken: config.metricsToken });
  const mib = (bytes: number) => Math.round(bytes / 1048576);
  const reclaimer = new MemoryReclaimer({
    clock,
    collect: fullCollection(),
    onCollected: ({ ms, rssBeforeBytes, rssAfterBytes }) =>
      app.log.info(
        { ms: Math.round(ms), rssBeforeMiB: mib(rssBeforeBytes), rssAfterMiB: mib(rssAfterBytes) },
        'memory of a burst of connections given back',
      ),
  });
  app.addHook('onClose', async () => reclaimer.close());
  await app.register(wsRoutes, { allowedOrigins: config.allowedOrigins, reclaimer });
  return app;
}
