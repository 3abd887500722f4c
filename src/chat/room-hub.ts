/**
 * The middle of the event path, shared by every connection of this instance: an event is stored
 * (the store gives it its seq), delivered to this instance's sockets, then published to the other
 * instances; what they publish is delivered here. Also the bus subscription of each room with a
 * socket here, unlogged frames (typing, direct), and logging leaves.
 */
import type { MessageBus } from './bus/message-bus.js';
import type { Clock } from './clock.js';
import { timestamp } from './clock.js';
import type { PresenceTracker } from './presence/presence.js';
import type { Member, Refusal } from './protocol.js';
import type { RoomRegistry } from './room-registry.js';
import type {
  AppendInput,
  AppendResult,
  Change,
  HistoryStore,
  KeptDirect,
  StoredEvent,
} from './store/history-store.js';
import type { ChatLogger, ChatObserver, ReportFailure } from './types.js';

export interface RoomHubOptions {
  store: HistoryStore;
  bus: MessageBus;
  registry: RoomRegistry;
  presence: PresenceTracker;
  clock: Clock;
  log: ChatLogger;
  observer: ChatObserver;
  reportFailure: ReportFailure;
}

export class RoomHub {
  readonly #opts: RoomHubOptions;
  /** Rooms whose bus channel this instance listens to, with the subscription in progress. */
  readonly #watching = new Map<string, Promise<void>>();
  /** Appends not yet settled: shutdown waits for them. */
  readonly #inflight = new Set<Promise<unknown>>();
  #closing = false;

  /** Rooms whose bus channel this instance listens to. */
  get watchedRooms(): number {
    return this.#watching.size;
  }

  constructor(options: RoomHubOptions) {
    this.#opts = options;
    const { bus, registry, log } = options;
    bus.subscribe({
      deliver: (message) => {
        if (message.kind === 'event') registry.deliver(message.room, message.event);
        else if (message.kind === 'ephemeral') {
          registry.deliverEphemeral(message.room, message.json, message.to, message.except);
        } else this.#noteRename(message.room, message.member);
      },
      resync: () => {
        log.warn({}, 'bus reconnected: reading missed events from the store');
        registry.resync();
      },
    });
  }

  /** Shutting down: no new writes are accepted. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Listen to the room's channel (once per room); resolves when events published from now on arrive. */
  watch(room: string): Promise<void> {
    let watching = this.#watching.get(room);
    if (!watching) {
      watching = this.#opts.bus.watch(room);
      this.#watching.set(room, watching);
    }
    return watching;
  }

  /** The room's last socket here is gone: stop listening to its channel. */
  unwatchIfEmpty(room: string): void {
    if (this.#opts.registry.hasRoom(room)) return;
    this.#watching.delete(room);
    this.#opts.bus
      .unwatch(room)
      .catch((err) => this.#opts.reportFailure('bus_unwatch', err, { room }, 'could not leave a bus channel'));
  }

  /** Store an event; shutdown waits for every append started before it. */
  append(input: AppendInput): Promise<AppendResult> {
    return this.#track(this.#opts.store.append(input));
  }

  /** Change a message and log the event saying so (see HistoryStore.amend); tracked as an append. */
  amend(room: string, id: string, change: Change): Promise<AppendResult | Refusal | null> {
    return this.#track(this.#opts.store.amend(room, id, change));
  }

  /** Keep a direct message for its two members; shutdown waits for it as for an append. */
  keepDirect(direct: KeptDirect): Promise<void> {
    return this.#track(this.#opts.store.keepDirect(direct));
  }

  #track<T>(pending: Promise<T>): Promise<T> {
    this.#inflight.add(pending);
    const settle = () => this.#inflight.delete(pending);
    pending.then(settle, settle);
    return pending;
  }

  /** A stored event: deliver it here, then to the other instances. */
  publish(room: string, event: StoredEvent): void {
    this.#opts.observer.eventStored?.();
    this.#opts.registry.deliver(room, event);
    this.#opts.bus.publish({ kind: 'event', room, event }).catch((err) => {
      this.#opts.reportFailure(
        'bus_publish',
        err,
        { room, seq: event.seq },
        'bus publish failed; other instances fill the gap from the store',
      );
    });
  }

  /** An unlogged frame: to the members in `to`, or to everyone in the room but `except`. */
  ephemeral(room: string, json: string, to?: string[], except?: string): void {
    this.#opts.registry.deliverEphemeral(room, json, to, except);
    const message = { kind: 'ephemeral' as const, room, json, ...(to ? { to } : {}), ...(except ? { except } : {}) };
    this.#opts.bus
      .publish(message)
      .catch((err) =>
        this.#opts.reportFailure('bus_publish', err, { room }, 'bus publish of an unlogged frame failed'),
      );
  }

  /** The member's grace period ran out: log its leave (not while shutting down: it may come back). */
  async logLeave(room: string, member: Member): Promise<void> {
    if (this.#closing) return;
    try {
      const left = await this.append({
        draft: { type: 'leave', room, member: { ...member }, ts: timestamp(this.#opts.clock) },
        memberId: member.id,
      });
      this.publish(room, left.event);
    } catch (err) {
      this.#opts.reportFailure('leave', err, { room }, 'could not log a leave');
    }
  }

  /** Refuse new writes and wait for the accepted ones to be stored. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#inflight]);
  }

  /** A member's rename was logged here: tell the other instances, whose tabs of it send under the new name. */
  renamed(room: string, member: Member): void {
    this.#opts.bus
      .publish({ kind: 'renamed', room, member })
      .catch((err) => this.#opts.reportFailure('bus_publish', err, { room }, 'bus publish of a rename failed'));
  }

  /** Another instance logged a rename: local tabs of that member send under the new name. */
  #noteRename(room: string, member: Member): void {
    Promise.resolve(this.#opts.presence.renamed(room, member)).catch((err) =>
      this.#opts.reportFailure('presence', err, { room }, 'could not note a rename from another instance'),
    );
  }
}
