/**
 * Builds the Fastify app from a Config; never listens (server.ts does, tests inject).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { MemoryBus } from './chat/bus/memory.js';
import type { MessageBus } from './chat/bus/message-bus.js';
import type { HistoryStore } from './chat/store/history-store.js';
import { SqliteStore } from './chat/store/sqlite.js';
import type { Config } from './config.js';
import { createMetrics } from './metrics.js';
import chatPlugin from './plugins/chat.js';
import securityPlugin from './plugins/security.js';
import staticPlugin from './plugins/static.js';
import viewPlugin from './plugins/view.js';
import websocketPlugin from './plugins/websocket.js';
import apiRoutes from './routes/api.js';
import healthRoutes from './routes/health.js';
import pageRoutes from './routes/pages.js';
import wsRoutes from './routes/ws.js';

export interface BuildOptions {
  /** The history store. @default a SqliteStore at config.sqlitePath */
  store?: HistoryStore;
  /** The bus to other instances. @default a MemoryBus of its own */
  bus?: MessageBus;
  /** Fastify's logger option. @default pino at config.logLevel */
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  if (config.redisUrl || config.databaseUrl) {
    throw new Error('REDIS_URL / DATABASE_URL (cluster mode) are not supported by this version yet: unset them');
  }
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    // a reverse proxy's idle WebSocket must not count against the HTTP keep-alive
    forceCloseConnections: 'idle',
  });
  const metrics = createMetrics();
  const store = options.store ?? new SqliteStore({ path: config.sqlitePath });
  const bus = options.bus ?? new MemoryBus();
  await app.register(websocketPlugin, { config });
  await app.register(chatPlugin, { config, store, bus, metrics });
  await app.register(securityPlugin);
  await app.register(viewPlugin);
  await app.register(staticPlugin);
  await app.register(pageRoutes);
  await app.register(apiRoutes);
  await app.register(healthRoutes, { registry: metrics.registry });
  await app.register(wsRoutes, { allowedOrigins: config.allowedOrigins });
  return app;
}
