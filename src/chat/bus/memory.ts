/**
 * The embedded MessageBus: instances in one process share a hub. A single server has a hub of one,
 * so publishing costs nothing; tests put two apps on one hub to run "two instances" without Redis.
 */
import { randomUUID } from 'node:crypto';
import type { BusHandler, BusMessage, MessageBus } from './message-bus.js';

/** The in-process meeting point of MemoryBus instances. */
export class MemoryHub {
  readonly buses = new Set<MemoryBus>();
}

export class MemoryBus implements MessageBus {
  readonly instanceId = randomUUID();
  #handler: BusHandler | null = null;
  readonly #hub: MemoryHub;

  constructor(hub: MemoryHub = new MemoryHub()) {
    this.#hub = hub;
    hub.buses.add(this);
  }

  async publish(message: BusMessage): Promise<void> {
    for (const bus of this.#hub.buses) {
      if (bus !== this) bus.#handler?.(message);
    }
  }

  subscribe(handler: BusHandler): void {
    this.#handler = handler;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#hub.buses.delete(this);
    this.#handler = null;
  }
}
