/**
 * Room → live connections, and delivery of a room's events to them: in seq order with no gap, each
 * event serialized once and the same bytes written to every socket. The events a room gets in one
 * turn of the event loop (a group commit's, a storm of joins) go out together at its end: one write
 * per socket for all of them. Dead sockets are skipped and
 * dropped, slow ones closed with 1013. No I/O of its own: filling a gap is asked of `fillGap`.
 * Where each connection stands in its room's log (its `Seat`) is written here and nowhere else.
 */
import { type Clock, systemClock, type Timer } from './clock.js';
import { CLOSE_KICKED, CLOSE_TRY_AGAIN_LATER, type Connection } from './connection.js';
import { textFrame, writeFrame } from './frame.js';
import type { StoredEvent } from './store/history-store.js';

/** Most events read back at once after a bus reconnect; a connection further behind is resumed by its client. */
const RESYNC_MAX = 5000;

export { CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER } from './connection.js';

/** How a stored kick event's JSON begins (store/shared.ts writes the type first). */
const KICK_PREFIX = '{"type":"kick",';
const kickedMember = (json: string) => (JSON.parse(json) as { member?: { id?: string } }).member?.id;

/** A kick among events, and whom it kicks (read once per delivery, not per socket). */
interface Kick {
  event: StoredEvent;
  member: string | undefined;
}

const kicksOf = (events: readonly StoredEvent[]): Kick[] =>
  events.filter((e) => e.json.startsWith(KICK_PREFIX)).map((event) => ({ event, member: kickedMember(event.json) }));

export interface RegistryOptions {
  /** Unsent bytes a socket may hold before it is closed with 1013. */
  maxBufferedBytes: number;
  /** Read the events of a room with afterSeq < seq < beforeSeq from the store. */
  fillGap(room: string, afterSeq: number, beforeSeq: number): Promise<StoredEvent[]>;
  /**
   * How long an event that arrived ahead of its turn waits for the missing ones before they are
   * read from the store. @default 150
   */
  gapWaitMs?: number;
  /** A connection found dead at delivery was dropped from its room. */
  onDrop?(conn: Connection): void;
  /** Reading a gap from the store failed (it is tried again after the next wait). */
  onFillError?(err: unknown, room: string): void;
  /** Writing a room's events of a turn failed (a bug: its sockets are closed to resume with `since`). */
  onWriteError?(err: unknown, room: string): void;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Runs the delivery of the events rooms got in this turn, once all of them are in.
   * @default process.nextTick (after the turn's callbacks and promise jobs)
   */
  defer?(deliver: () => void): void;
}

/** A connection's place in its room's delivery. Only the registry writes it. */
export interface Seat {
  readonly conn: Connection;
  /** seq of the last event the connection has; later deliveries skip anything at or below it. */
  readonly lastSeq: number;
}

class SeatState implements Seat {
  lastSeq = 0;
  /** Events delivered while the welcome is being prepared; null once welcomed. */
  backlog: StoredEvent[] | null = [];
  constructor(readonly conn: Connection) {}
}

class RoomChannel {
  constructor(readonly name: string) {}
  readonly seats = new Set<SeatState>();
  /** Latest seq delivered in order; null until the room's position in its log is known. */
  lastSeq: number | null = null;
  /** Events that arrived ahead of their turn (or before lastSeq was known), by seq. */
  readonly ahead = new Map<number, StoredEvent>();
  gapTimer: Timer | null = null;
  filling = false;
  /** Events in order, not yet written to the sockets (they go at the end of the turn); null: none. */
  unsent: StoredEvent[] | null = null;
}

/** Delivery outcomes since start, read by the metrics (plain counters: this is the hot path). */
export interface DeliveryStats {
  /** Frames written to a socket. */
  sent: number;
  /** Sockets found dead at delivery and dropped. */
  dropped: number;
  /** Sockets closed with 1013 for their backlog. */
  slow: number;
  /** Of the sent frames, those written behind bytes the socket had not sent yet (a slow reader). */
  queued: number;
}

export class RoomRegistry {
  readonly stats: DeliveryStats = { sent: 0, dropped: 0, slow: 0, queued: 0 };
  readonly #rooms = new Map<string, RoomChannel>();
  readonly #opts: Required<Pick<RegistryOptions, 'gapWaitMs' | 'clock' | 'defer'>> & RegistryOptions;
  #connections = 0;
  /** Rooms with unsent events, written when `#writeUnsent` runs. */
  #unsentRooms: RoomChannel[] = [];

  constructor(options: RegistryOptions) {
    this.#opts = { gapWaitMs: 150, clock: systemClock, defer: process.nextTick, ...options };
  }

  get connectionCount(): number {
    return this.#connections;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Register a connection; its seat collects deliveries in a backlog until `welcomed`. */
  add(conn: Connection): Seat {
    let room = this.#rooms.get(conn.room);
    if (!room) {
      room = new RoomChannel(conn.room);
      this.#rooms.set(conn.room, room);
    }
    const seat = new SeatState(conn);
    room.seats.add(seat);
    this.#connections++;
    return seat;
  }

  /** Whether a connection of this instance is in the room. */
  hasRoom(room: string): boolean {
    return this.#rooms.has(room);
  }

  /**
   * Events may have been lost on the way here (the bus reconnected): read every started room's
   * events after the last one delivered from the store.
   */
  resync(): void {
    for (const [name, room] of this.#rooms) if (room.lastSeq !== null) void this.#fill(name, room, true);
  }

  /** Whether the room's position in its log is known (`start` was called since it was created). */
  isStarted(room: string): boolean {
    return (this.#rooms.get(room)?.lastSeq ?? null) !== null;
  }

  /** Set where a new room stands in its log; what arrived meanwhile is delivered or dropped as old. */
  start(roomName: string, latestSeq: number): void {
    const room = this.#rooms.get(roomName);
    if (!room || room.lastSeq !== null) return;
    room.lastSeq = latestSeq;
    for (const seq of room.ahead.keys()) if (seq <= latestSeq) room.ahead.delete(seq);
    this.#drain(roomName, room);
  }

  /**
   * The welcome of `conn` holds every event up to `seq`: send what it collected after that and
   * deliver to it live from now on.
   */
  welcomed(seat: Seat, seq: number): void {
    const state = seat as SeatState;
    const backlog = state.backlog ?? [];
    state.backlog = null;
    state.lastSeq = seq;
    for (const event of backlog) if (event.seq > state.lastSeq) this.#sendOne(state, event);
  }

  /** Unregister a connection; false when it was not registered (already dropped). */
  remove(seat: Seat): boolean {
    const roomName = seat.conn.room;
    const room = this.#rooms.get(roomName);
    if (!room?.seats.delete(seat as SeatState)) return false;
    this.#connections--;
    if (room.seats.size === 0) {
      room.gapTimer?.cancel();
      this.#rooms.delete(roomName);
    }
    return true;
  }

  /** Connections of a room, for presence counts and shutdown. */
  *connections(roomName?: string): Iterable<Connection> {
    if (roomName !== undefined) {
      for (const seat of this.#rooms.get(roomName)?.seats ?? []) yield seat.conn;
      return;
    }
    for (const room of this.#rooms.values()) for (const seat of room.seats) yield seat.conn;
  }

  /** Deliver one stored event of a room to its connections, in seq order. */
  deliver(roomName: string, event: StoredEvent): void {
    const room = this.#rooms.get(roomName);
    if (!room) return; // nobody here; a later welcome reads it from the store
    if (room.lastSeq === null || event.seq > room.lastSeq + 1) {
      room.ahead.set(event.seq, event);
      if (room.lastSeq !== null) this.#armGapTimer(roomName, room);
      return;
    }
    if (event.seq <= room.lastSeq) return; // already delivered (a gap fill raced the bus)
    this.#fanOut(room, event);
    this.#drain(roomName, room);
  }

  /** Send an unlogged frame to the members in `to`, or to everyone in the room but `except`. */
  deliverEphemeral(roomName: string, json: string, to?: readonly string[], except?: string): void {
    const room = this.#rooms.get(roomName);
    if (!room) return;
    this.#writeRoom(room); // what the room got earlier in this turn goes first
    const frame = textFrame(json);
    if (to) {
      for (const seat of room.seats) if (to.includes(seat.conn.memberId)) this.#sendFrame(seat, frame, json);
      return;
    }
    for (const seat of room.seats) if (seat.conn.memberId !== except) this.#sendFrame(seat, frame, json);
  }

  #fanOut(room: RoomChannel, event: StoredEvent): void {
    room.lastSeq = event.seq;
    if (room.unsent) {
      room.unsent.push(event);
      return;
    }
    room.unsent = [event];
    this.#unsentRooms.push(room);
    if (this.#unsentRooms.length === 1) this.#opts.defer(this.#writeUnsent);
  }

  readonly #writeUnsent = (): void => {
    const rooms = this.#unsentRooms;
    this.#unsentRooms = [];
    for (const room of rooms) {
      try {
        this.#writeRoom(room);
      } catch (err) {
        // its clients may have missed events: they resume with `since` (the others go on)
        room.unsent = null;
        this.#opts.onWriteError?.(err, room.name);
        for (const seat of room.seats) seat.conn.close(CLOSE_TRY_AGAIN_LATER, 'delivery failed: reconnect with since');
      }
    }
  };

  /**
   * Write what a room got so far in this turn now: before a reply to one of its connections (an
   * error, a retried message's original), which must not overtake the events before it.
   */
  flush(roomName: string): void {
    const room = this.#rooms.get(roomName);
    if (room) this.#writeRoom(room);
  }

  /** Write every room's events of this turn now (shutdown, before the sockets are closed). */
  flushAll(): void {
    this.#writeUnsent();
  }

  /** Write a room's unsent events: their frames built once, one write per socket for all of them. */
  #writeRoom(room: RoomChannel): void {
    const events = room.unsent;
    if (!events) return;
    room.unsent = null;
    const first = events[0] as StoredEvent;
    const frame = events.length === 1 ? textFrame(first.json) : Buffer.concat(events.map((e) => textFrame(e.json)));
    const kicks = kicksOf(events);
    for (const seat of room.seats) {
      if (seat.backlog) for (const e of events) seat.backlog.push(e);
      else if (first.seq > seat.lastSeq) this.#sendEvents(seat, frame, events, kicks);
      else {
        // the seat already has some of them (its welcome read them): the rest one by one
        for (const e of events) if (e.seq > seat.lastSeq) this.#sendOne(seat, e);
      }
    }
  }

  #drain(roomName: string, room: RoomChannel): void {
    if (room.lastSeq === null) return;
    let next = room.ahead.get(room.lastSeq + 1);
    while (next) {
      room.ahead.delete(next.seq);
      this.#fanOut(room, next);
      next = room.ahead.get(room.lastSeq + 1);
    }
    if (room.ahead.size === 0 && room.gapTimer) {
      room.gapTimer.cancel();
      room.gapTimer = null;
    } else if (room.ahead.size > 0) {
      this.#armGapTimer(roomName, room);
    }
  }

  #armGapTimer(roomName: string, room: RoomChannel): void {
    if (room.gapTimer || room.filling) return;
    room.gapTimer = this.#opts.clock.after(this.#opts.gapWaitMs, () => {
      room.gapTimer = null;
      void this.#fill(roomName, room);
    });
  }

  async #fill(roomName: string, room: RoomChannel, toLatest = false): Promise<void> {
    if (room.lastSeq === null || (room.ahead.size === 0 && !toLatest)) return;
    const before = toLatest ? room.lastSeq + RESYNC_MAX + 1 : Math.min(...room.ahead.keys());
    room.filling = true;
    try {
      const missing = await this.#opts.fillGap(roomName, room.lastSeq, before);
      for (const event of missing) if (!room.ahead.has(event.seq)) room.ahead.set(event.seq, event);
    } catch (err) {
      // the store is unreachable: tried again after the next wait
      this.#opts.onFillError?.(err, roomName);
    } finally {
      room.filling = false;
    }
    if (this.#rooms.get(roomName) === room) this.#drain(roomName, room);
  }

  #sendOne(seat: SeatState, event: StoredEvent): void {
    this.#sendEvents(seat, textFrame(event.json), [event], kicksOf([event]));
  }

  /** Send logged events (`frame`: all of their frames; `kicks`: those that are kicks) to a seat that has none of them. */
  #sendEvents(seat: SeatState, frame: Buffer, events: readonly StoredEvent[], kicks: readonly Kick[]): void {
    // a kick reaches the kicked member too, and then closes its connection, wherever it is:
    // nothing logged after the kick reaches it
    const kick = kicks.find((k) => k.member === seat.conn.memberId);
    if (kick && kick.event !== events.at(-1)) {
      for (const e of events) {
        this.#sendOne(seat, e);
        if (e === kick.event) return;
      }
    }
    if (!this.#sendFrame(seat, frame, events)) return;
    seat.lastSeq = (events.at(-1) as StoredEvent).seq;
    if (kick) seat.conn.close(CLOSE_KICKED, 'kicked from the room');
  }

  /** Write to one socket; false when it was dead (dropped) or too slow (closed 1013). */
  #sendFrame(seat: SeatState, frame: Buffer, json: string | readonly StoredEvent[]): boolean {
    const conn = seat.conn;
    if (!conn.isOpen) {
      if (!conn.closing && this.remove(seat)) {
        this.#opts.onDrop?.(conn);
        this.stats.dropped++;
      }
      return false;
    }
    const buffered = conn.socket.bufferedAmount;
    if (buffered > this.#opts.maxBufferedBytes) {
      // it resumes later with `since`; closing stops the backlog from growing without bound
      conn.close(CLOSE_TRY_AGAIN_LATER, 'too far behind: reconnect with since');
      this.stats.slow++;
      return false;
    }
    try {
      writeFrame(conn.socket, frame, json);
    } catch {
      // the socket broke under the write: it is dropped like a dead one
      conn.socket.terminate();
      this.stats.dropped++;
      return false;
    }
    const frames = typeof json === 'string' ? 1 : json.length;
    this.stats.sent += frames;
    if (buffered > 0) this.stats.queued += frames;
    return true;
  }
}
