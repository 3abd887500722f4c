/**
 * The chat service of the app, with its store and bus, decorated as `app.chat`; closed in order
 * on shutdown (sockets first, then bus and store).
 */
import fp from 'fastify-plugin';
import type { Backends } from '../backends.js';
import type { MessageBus } from '../chat/bus/message-bus.js';
import { ChatService } from '../chat/chat-service.js';
import type { Clock } from '../chat/clock.js';
import type { HistoryStore } from '../chat/store/history-store.js';
import type { Config } from '../config.js';
import type { AppMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatService;
    store: HistoryStore;
    bus: MessageBus;
  }
}

export interface ChatPluginOptions {
  config: Config;
  backends: Backends;
  /** Key of the member-id hash. */
  secret: string;
  metrics: AppMetrics;
  clock: Clock;
}

export default fp<ChatPluginOptions>(
  async (app, { config, backends, secret, metrics, clock }) => {
    const { store, bus } = backends;
    const chat = new ChatService({
      ...config,
      store,
      bus,
      files: backends.files,
      presence: backends.presence,
      limiter: backends.limiter,
      typingLimiter: backends.typingLimiter,
      connectionCap: backends.connectionCap,
      joinLimiter: backends.joinLimiter,
      addressLimiter: backends.addressLimiter,
      clock,
      secret,
      log: app.log,
      observer: metrics.observer,
    });
    metrics.setSources({
      connections: () => chat.registry.connectionCount,
      rooms: () => chat.presence.roomCount,
      members: () => chat.presence.memberCount,
      deliveries: () => chat.registry.stats,
      heldRooms: () => chat.heldRooms(),
    });
    app.decorate('chat', chat);
    app.decorate('store', store);
    app.decorate('bus', bus);
    // before the HTTP server stops: writes accepted so far are stored, then sockets close with 1001
    app.addHook('preClose', async () => {
      await chat.close();
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    });
    app.addHook('onClose', async () => {
      await bus.close();
      await backends.files.close();
      await store.close();
      await backends.close();
    });
  },
  { name: 'chat', dependencies: ['websocket'] },
);
