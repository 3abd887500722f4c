/**
 * MessageBus: moves already-stored events (and the unlogged typing and direct frames) between
 * instances. The publishing instance delivers to its own sockets itself; a bus never hands an
 * instance its own messages back. Every implementation passes test/message-bus.contract.ts.
 */
import type { Member } from '../protocol.js';
import type { StoredEvent } from '../store/history-store.js';

export type BusMessage =
  /** A logged event, already stored. */
  | { kind: 'event'; room: string; event: StoredEvent }
  /**
   * An unlogged frame (typing, direct): `json` goes to the connections of the members in `to`,
   * or, without `to`, to every connection of the room except those of member `except`.
   */
  | { kind: 'ephemeral'; room: string; json: string; to?: string[]; except?: string }
  /** A member's name changed (its rename event travels as an `event`): tabs elsewhere use it from now on. */
  | { kind: 'renamed'; room: string; member: Member };

export interface BusListener {
  /** A message from another instance. */
  deliver(message: BusMessage): void;
  /**
   * Messages may have been lost (the bus reconnected): read what was missed from the store.
   */
  resync(): void;
}

export interface MessageBus {
  /** The id this instance tags its messages with. */
  readonly instanceId: string;
  /** Send to every other instance. Resolves once the bus took it. */
  publish(message: BusMessage): Promise<void>;
  /** Receive what other instances publish. One listener per bus. */
  subscribe(listener: BusListener): void;
  /** Receive the messages of a room from now on (resolves once that holds). */
  watch(room: string): Promise<void>;
  /** Stop receiving a room's messages (no socket of this instance is in it any more). */
  unwatch(room: string): Promise<void>;
  /** Resolves when the bus answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
