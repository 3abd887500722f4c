/**
 * The embedded MessageBus: instances in one process share a hub. A single server has a hub of one,
 * so publishing costs nothing; tests put two apps on one hub to run "two instances" without Redis.
 */
import { randomUUID } from 'node:crypto';
import type { BusListener, BusMessage, MessageBus } from './message-bus.js';

/** The in-process meeting point of MemoryBus instances. */
export class MemoryHub {
  readonly buses = new Set<MemoryBus>();
}

export class MemoryBus implements MessageBus {
  readonly instanceId = randomUUID();
  #listener: BusListener | null = null;
  readonly #hub: MemoryHub;

  constructor(hub: MemoryHub = new MemoryHub()) {
    this.#hub = hub;
    hub.buses.add(this);
  }

  async publish(message: BusMessage): Promise<void> {
    for (const bus of this.#hub.buses) {
      if (bus !== this) bus.#listener?.deliver(message);
    }
  }

  subscribe(listener: BusListener): void {
    this.#listener = listener;
  }

  /** Every bus of the hub hears every room: nothing to do. */
  async watch(): Promise<void> {}

  async unwatch(): Promise<void> {}

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#hub.buses.delete(this);
    this.#listener = null;
  }
}
