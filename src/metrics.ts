/**
 * Prometheus metrics of one app: its own registry (tests build many apps in one process).
 * @see https://github.com/siimon/prom-client
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryStats } from './chat/room-registry.js';
import type { ChatObserver, FailureKind } from './chat/types.js';

export interface MetricSources {
  connections(): number;
  rooms(): number;
  members(): number;
  deliveries(): DeliveryStats;
  /** Rooms held in memory, by where (see ChatService.heldRooms). */
  heldRooms(): Record<string, number>;
}

export interface AppMetrics {
  registry: Registry;
  /** Hooks the chat service calls on its hot path. */
  observer: ChatObserver;
  /** Where the gauges read from, set once the chat service exists. */
  setSources(sources: MetricSources): void;
}

export function createMetrics(): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'roomchat_process_' });
  let sources: MetricSources = {
    connections: () => 0,
    rooms: () => 0,
    members: () => 0,
    deliveries: () => ({ sent: 0, dropped: 0, slow: 0, queued: 0 }),
    heldRooms: () => ({}),
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('roomchat_connections', 'Open WebSocket connections', () => sources.connections());
  gauge('roomchat_rooms', 'Rooms with a connection on this instance', () => sources.rooms());
  gauge('roomchat_members', 'Members present in rooms (including those in their leave grace period)', () =>
    sources.members(),
  );
  new Gauge({
    name: 'roomchat_rooms_held',
    help: 'Rooms this instance keeps state for, by where: only the store cache (bounded) may hold rooms nobody is in',
    labelNames: ['where'] as const,
    registers: [registry],
    collect() {
      for (const [where, n] of Object.entries(sources.heldRooms())) this.labels(where).set(n);
    },
  });
  const stored = new Counter({
    name: 'roomchat_events_stored_total',
    help: 'Events appended to the log',
    registers: [registry],
  });
  // counted by the registry in plain integers (the hot path), read here when scraped
  new Counter({
    name: 'roomchat_deliveries_total',
    help: 'Frames written to sockets, and sockets dropped (dead) or closed for their backlog (slow)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      // mirror the registry's totals: they only ever grow, so the counter stays a counter
      const stats = sources.deliveries();
      this.reset();
      for (const outcome of ['sent', 'dropped', 'slow'] as const) this.labels(outcome).inc(stats[outcome]);
    },
  });
  new Counter({
    name: 'roomchat_deliveries_queued_total',
    help: 'Frames written behind bytes the socket had not yet sent (its reader is slow): a share of the sent ones',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.deliveries().queued);
    },
  });
  const latency = new Histogram({
    name: 'roomchat_message_latency_seconds',
    help: 'From a message frame arriving to the end of its fan-out on this instance (store included)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'roomchat_errors_total',
    help: 'Failures caught and logged, by where they happened (append, bus_publish, gap_fill, presence, ...)',
    labelNames: ['where'] as const,
    registers: [registry],
  });
  const paused = new Counter({
    name: 'roomchat_inbox_paused_total',
    help: 'Times a connection sent faster than it was served and its socket stopped being read until it caught up',
    registers: [registry],
  });
  return {
    registry,
    setSources(next) {
      sources = next;
    },
    observer: {
      eventStored: () => stored.inc(),
      messageLatency: (seconds) => latency.observe(seconds),
      failure: (where: FailureKind) => failures.labels(where).inc(),
      inboxPaused: () => paused.inc(),
    },
  };
}
