/**
 * The chat of one instance, put together: registry, presence, rate limit, room hub and the
 * heartbeat, and the sessions of the sockets it is given. The path of a frame lives in the modules
 * it wires (see docs/architecture.md); this one only builds, opens and shuts down.
 */
import type { WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { FileStore } from '../files/file-store.js';
import type { ConnectionCap } from './address/connection-cap.js';
import { MemoryConnectionCap } from './address/memory.js';
import type { MessageBus } from './bus/message-bus.js';
import { type Clock, systemClock, type Timer } from './clock.js';
import type { ChatContext } from './handlers/context.js';
import { limitKey } from './handlers/context.js';
import { Janitor, type SweepResult } from './janitor.js';
import { ephemeralUid, guestName, memberId } from './names.js';
import { MemoryPresence } from './presence/memory.js';
import type { PresenceTracker } from './presence/presence.js';
import type { Member } from './protocol.js';
import { MemoryRateLimiter } from './rate-limit/memory.js';
import type { RateLimit } from './rate-limit/rate-limit.js';
import { RoomHub } from './room-hub.js';
import { CLOSE_GOING_AWAY, RoomRegistry } from './room-registry.js';
import { Session, type SessionDeps, sessionOf } from './session.js';
import type { HistoryStore } from './store/history-store.js';
import { type ChatLogger, type ChatObserver, failureReporter, type JoinRequest } from './types.js';

/** The settings of the chat, as configured (config.ts is their one definition). */
export type ChatSettings = Pick<
  Config,
  | 'leaveGraceMs'
  | 'pingIntervalMs'
  | 'maxBufferedBytes'
  | 'welcomeMaxBytes'
  | 'rateLimitPerSec'
  | 'rateLimitBurst'
  | 'maxConnectionsPerIp'
  | 'joinsPerIpPerMin'
  | 'rateLimitPerIpPerSec'
  | 'emptyRoomTtlHours'
  | 'retentionDays'
>;

/** How often the store is swept of empty rooms and (with RETENTION_DAYS) old events. */
export const SWEEP_INTERVAL_MS = 3600_000;
const HOUR_MS = 3600_000;

/** Typing frames relayed per member and second (PROTOCOL.md, "Abuse limits"). */
export const TYPING_PER_SEC = 1;

export interface ChatServiceOptions extends ChatSettings {
  store: HistoryStore;
  /** Uploaded files. */
  files: FileStore;
  bus: MessageBus;
  /** Key of the member-id hash. */
  secret: string;
  log: ChatLogger;
  observer?: ChatObserver;
  /** Presence, given the callback that logs a leave. @default a `MemoryPresence` of this process */
  presence?(onLeave: (room: string, member: Member) => void): PresenceTracker;
  /** The rate limiter. @default a `MemoryRateLimiter` of this process */
  limiter?: RateLimit;
  /** The limiter of relayed typing, one a second per member. @default a `MemoryRateLimiter` of this process */
  typingLimiter?: RateLimit;
  /** Open connections per client address. @default a `MemoryConnectionCap` of this process */
  connectionCap?: ConnectionCap;
  /** Handshakes that would log a join, per client address. @default a `MemoryRateLimiter` of this process */
  joinLimiter?: RateLimit;
  /** The bucket all members from one address share. @default a `MemoryRateLimiter` of this process */
  addressLimiter?: RateLimit;
  /** @default systemClock */
  clock?: Clock;
}

/** A handshake the per-address caps let through: call `release` once its connection closed. */
export type HandshakeAdmission = { ok: true; release(): void } | { ok: false; reason: string };

export class ChatService {
  readonly registry: RoomRegistry;
  readonly presence: PresenceTracker;
  readonly #hub: RoomHub;
  readonly #deps: SessionDeps;
  readonly #secret: string;
  readonly #heartbeat: Timer;
  readonly #connectionCap: ConnectionCap;
  readonly #joinLimiter: RateLimit;
  readonly #settings: ChatSettings;
  readonly #janitor: Janitor;
  readonly #store: HistoryStore;
  readonly #clock: Clock;

  constructor(options: ChatServiceOptions) {
    const clock = options.clock ?? systemClock;
    const observer = options.observer ?? {};
    const reportFailure = failureReporter(options.log, observer);
    this.#secret = options.secret;
    this.#settings = options;
    this.#connectionCap = options.connectionCap ?? new MemoryConnectionCap({ max: options.maxConnectionsPerIp });
    this.#joinLimiter = options.joinLimiter ?? new MemoryRateLimiter(joinRate(options.joinsPerIpPerMin, clock));
    this.registry = new RoomRegistry({
      maxBufferedBytes: options.maxBufferedBytes,
      clock,
      fillGap: (room, afterSeq, beforeSeq) =>
        options.store.read(room, { afterSeq, beforeSeq, limit: beforeSeq - afterSeq, keep: 'oldest' }),
      onFillError: (err, room) => reportFailure('gap_fill', err, { room }, 'could not read a gap from the store'),
      onWriteError: (err, room) => reportFailure('deliver', err, { room }, 'could not write the events of a room'),
      onDrop: (conn) => sessionOf(conn)?.release(),
    });
    const limiter =
      options.limiter ??
      new MemoryRateLimiter({ perSec: options.rateLimitPerSec, burst: options.rateLimitBurst, clock });
    const typingLimiter = options.typingLimiter ?? new MemoryRateLimiter({ perSec: TYPING_PER_SEC, burst: 1, clock });
    const onLeave = (room: string, member: Member) => {
      limiter.forget(limitKey(room, member.id));
      typingLimiter.forget(limitKey(room, member.id));
      void this.#hub.logLeave(room, member);
    };
    this.presence =
      options.presence?.(onLeave) ?? new MemoryPresence({ leaveGraceMs: options.leaveGraceMs, onLeave, clock });
    this.#hub = new RoomHub({
      store: options.store,
      bus: options.bus,
      registry: this.registry,
      presence: this.presence,
      clock,
      log: options.log,
      observer,
      reportFailure,
    });
    const ctx: ChatContext = {
      hub: this.#hub,
      history: options.store,
      files: options.files,
      presence: this.presence,
      limiter,
      addressLimiter: options.addressLimiter ?? new MemoryRateLimiter(addressRate(options.rateLimitPerIpPerSec, clock)),
      typingLimiter,
      clock,
      observer,
      reportFailure,
      rateLimitPerSec: options.rateLimitPerSec,
    };
    this.#deps = {
      ctx,
      store: options.store,
      registry: this.registry,
      hub: this.#hub,
      presence: this.presence,
      clock,
      maxBufferedBytes: options.maxBufferedBytes,
      welcomeMaxBytes: options.welcomeMaxBytes,
    };
    this.#store = options.store;
    this.#clock = clock;
    this.#janitor = new Janitor({
      store: options.store,
      files: options.files,
      presence: this.presence,
      isLive: (room) => this.registry.hasRoom(room),
      clock,
      emptyRoomTtlMs: options.emptyRoomTtlHours * HOUR_MS,
      retentionMs: options.retentionDays * 24 * HOUR_MS,
      intervalMs: SWEEP_INTERVAL_MS,
      onError: (err) => reportFailure('sweep', err, {}, 'sweeping empty rooms and old events failed'),
    });
    // one sweep for every socket (no timer per socket): a silent peer goes within two intervals
    this.#heartbeat = clock.every(options.pingIntervalMs, () => {
      for (const conn of this.registry.connections()) conn.heartbeat();
    });
  }

  /** Shutting down: the hub refuses new writes (its flag is the one place this is kept). */
  get closing(): boolean {
    return this.#hub.closing;
  }

  /**
   * The per-address caps of a handshake (PROTOCOL.md, "Abuse limits"): one that would log a join
   * takes a token of the address's join bucket, refused or not, and every one counts toward the
   * address's open connections until `release`.
   */
  async admitHandshake(request: JoinRequest, address: string): Promise<HandshakeAdmission> {
    const { room, uid } = request;
    const joining = uid === undefined || !(await this.presence.has(room, memberId(this.#secret, room, uid)));
    if (joining && !(await this.#joinLimiter.take(address))) {
      return {
        ok: false,
        reason: `too many joins from ${address}: at most ${this.#settings.joinsPerIpPerMin} a minute`,
      };
    }
    if (!(await this.#connectionCap.acquire(address))) {
      return {
        ok: false,
        reason: `too many connections from ${address}: at most ${this.#settings.maxConnectionsPerIp}`,
      };
    }
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#connectionCap.release(address);
      },
    };
  }

  /** Erase empty rooms and old events now (it also happens every SWEEP_INTERVAL_MS). */
  sweep(): Promise<SweepResult> {
    return this.#janitor.sweep();
  }

  /**
   * Rooms this instance holds something for: a room nobody is connected to must be in none of
   * these but the store's bounded cache (PROTOCOL.md, "Abuse limits", memory and disk).
   */
  heldRooms(): { registry: number; presence: number; bus: number; storeCache: number } {
    return {
      registry: this.registry.roomCount,
      presence: this.presence.roomCount,
      bus: this.#hub.watchedRooms,
      storeCache: this.#store.cachedRooms,
    };
  }

  /**
   * Who may upload to a room (PROTOCOL.md v2, "Files"): a member with a live connection there,
   * not banned, with a rate-limit token (its own and its address's). Its member id, or the status
   * and reason to answer.
   */
  async admitUpload(
    room: string,
    uid: string | undefined,
    address: string,
  ): Promise<{ ok: true; memberId: string } | { ok: false; status: 403 | 429; message: string }> {
    const forbidden = {
      ok: false as const,
      status: 403 as const,
      message: 'only a member connected to the room uploads to it',
    };
    if (uid === undefined) return forbidden;
    const id = memberId(this.#secret, room, uid);
    if ((await this.#store.bannedUntil(room, id)) > this.#clock.now()) return forbidden;
    if (!(await this.presence.online(room, id))) return forbidden;
    const ctx = this.#deps.ctx;
    if (!(await ctx.limiter.take(limitKey(room, id))) || !(await ctx.addressLimiter.take(address))) {
      return { ok: false, status: 429, message: 'slow down: too many actions' };
    }
    return { ok: true, memberId: id };
  }

  /** A search from this client address takes one of its rate-limit tokens (false: none left). */
  async admitSearch(address: string): Promise<boolean> {
    return this.#deps.ctx.addressLimiter.take(address);
  }

  /** Addresses with an open connection counted on this instance. */
  get addressCount(): number {
    return this.#connectionCap.addresses;
  }

  /** Take over an upgraded socket for the member the handshake names. */
  open(socket: WebSocket, request: JoinRequest): Session {
    const uid = request.uid ?? ephemeralUid();
    const member = { id: memberId(this.#secret, request.room, uid), name: request.name ?? guestName() };
    return Session.open(this.#deps, socket, request, member);
  }

  /**
   * Shutdown: refuse new writes, wait for accepted ones to be stored, then close every socket with
   * 1001 so clients reconnect (with `since`) elsewhere or after the restart.
   */
  async close(): Promise<void> {
    if (this.#hub.closing) return;
    const stored = this.#hub.close(); // refuses new writes at once, resolves once accepted ones are stored
    this.#heartbeat.cancel();
    this.#janitor.close();
    await stored;
    this.registry.flushAll(); // the last accepted events reach this instance's sockets first
    const sockets = [...this.registry.connections()].map((conn) => conn.socket);
    for (const conn of this.registry.connections()) conn.close(CLOSE_GOING_AWAY, 'server shutting down');
    await waitClosed(sockets, 2000);
    await this.presence.close();
  }
}

/** The join bucket of an address: a minute's worth at once, refilled over the minute. */
export const joinRate = (perMin: number, clock: Clock) => ({ perSec: perMin / 60, burst: perMin, clock });

/** The bucket all members from an address share: a burst of two seconds' worth. */
export const addressRate = (perSec: number, clock: Clock) => ({ perSec, burst: Math.ceil(2 * perSec), clock });

/** Resolve once every socket closed, or after `ms` (terminating the rest). */
function waitClosed(sockets: WebSocket[], ms: number): Promise<void> {
  const open = sockets.filter((s) => s.readyState !== 3);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = open.length;
    const timer = setTimeout(() => {
      for (const s of open) s.terminate();
      resolve();
    }, ms);
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}
