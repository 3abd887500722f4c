/**
 * What the store may let go (PROTOCOL.md, "Abuse limits", memory and disk): a room whose log holds
 * no message, whose members all left, and which saw no event for `emptyRoomTtlMs` is erased; with
 * `retentionMs`, events older than that are erased (a room keeps its seq); uploads never attached
 * to a message are erased an hour after they came. Runs at start and then
 * every `intervalMs`, in pages, yielding between them, so a large sweep never blocks the server.
 * Every instance of a cluster runs it; erasing is idempotent, so they need no coordination.
 */

import type { FileStore } from '../files/file-store.js';
import type { Clock, Timer } from './clock.js';
import type { PresenceTracker } from './presence/presence.js';
import type { HistoryStore } from './store/history-store.js';

/** Rooms per page, and events erased per statement. */
const PAGE = 100;
const EVENTS_PER_STEP = 1000;

/** An upload not attached to a message within this long is erased (PROTOCOL.md v2). */
export const UNATTACHED_MS = 3600_000;

export interface JanitorOptions {
  store: HistoryStore;
  files: FileStore;
  presence: PresenceTracker;
  /** Whether a room has a live connection on this instance. */
  isLive(room: string): boolean;
  clock: Clock;
  emptyRoomTtlMs: number;
  /** 0: keep events forever. */
  retentionMs: number;
  intervalMs: number;
  /** A sweep failed (it is tried again at the next interval). */
  onError(err: unknown): void;
}

export interface SweepResult {
  rooms: number;
  events: number;
  /** Uploads never attached, erased. */
  files: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Janitor {
  readonly #opts: JanitorOptions;
  readonly #timer: Timer;
  #running: Promise<SweepResult> | null = null;
  /** A sweep asked for while one ran: it starts when that one ends (at most one waits). */
  #queued: Promise<SweepResult> | null = null;

  constructor(options: JanitorOptions) {
    this.#opts = options;
    this.#timer = options.clock.every(options.intervalMs, () => void this.#background());
  }

  /**
   * Sweep now, or right after the sweep under way (its time may be too early for what is due
   * now). One sweep at a time; calls while one waits share the waiting one.
   */
  sweep(): Promise<SweepResult> {
    if (!this.#running) return this.#start();
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.#start();
      });
    return this.#queued;
  }

  #start(): Promise<SweepResult> {
    const running = this.#sweep().finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }

  close(): void {
    this.#timer.cancel();
  }

  async #background(): Promise<void> {
    try {
      await this.sweep();
    } catch (err) {
      this.#opts.onError(err);
    }
  }

  async #sweep(): Promise<SweepResult> {
    const { store, presence, isLive, clock, emptyRoomTtlMs, retentionMs } = this.#opts;
    const now = clock.now();
    const result: SweepResult = { rooms: 0, events: 0, files: 0 };
    if (retentionMs > 0) {
      const before = now - retentionMs;
      for (let after = ''; ; ) {
        const rooms = await store.rooms(after, PAGE);
        for (const room of rooms) {
          let erased: number;
          do {
            erased = await store.eraseOldEvents(room, before, EVENTS_PER_STEP);
            result.events += erased;
            await nextTurn();
          } while (erased === EVENTS_PER_STEP);
        }
        if (rooms.length < PAGE) break;
        after = rooms[rooms.length - 1] as string;
      }
    }
    for (;;) {
      const ids = await this.#opts.files.unattached(now - UNATTACHED_MS, PAGE);
      await this.#opts.files.erase(ids);
      result.files += ids.length;
      if (ids.length < PAGE) break;
      await nextTurn();
    }
    const before = now - emptyRoomTtlMs;
    for (let after = ''; ; ) {
      const rooms = await store.emptyRooms(before, after, PAGE);
      for (const room of rooms) {
        // the log says everyone left; presence has the last word (a member in its grace period, or
        // connected to an instance whose leave is still to be logged)
        if (isLive(room) || (await presence.members(room)).length > 0) continue;
        if (await store.eraseEmptyRoom(room, before)) result.rooms++;
      }
      if (rooms.length < PAGE) break;
      after = rooms[rooms.length - 1] as string;
      await nextTurn();
    }
    return result;
  }
}
