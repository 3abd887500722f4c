/**
 * The chat of one instance, put together: registry, presence, rate limit, room hub and the
 * heartbeat, and the sessions of the sockets it is given. The path of a frame lives in the modules
 * it wires (see docs/architecture.md); this one only builds, opens and shuts down.
 */
import type { WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { MessageBus } from './bus/message-bus.js';
import { type Clock, systemClock, type Timer } from './clock.js';
import type { ChatContext } from './handlers/context.js';
import { limitKey } from './handlers/context.js';
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
  'leaveGraceMs' | 'pingIntervalMs' | 'maxBufferedBytes' | 'welcomeMaxBytes' | 'rateLimitPerSec' | 'rateLimitBurst'
>;

/** Typing frames relayed per member and second (PROTOCOL.md, "Abuse limits"). */
export const TYPING_PER_SEC = 1;

export interface ChatServiceOptions extends ChatSettings {
  store: HistoryStore;
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
  /** @default systemClock */
  clock?: Clock;
}

export class ChatService {
  readonly registry: RoomRegistry;
  readonly presence: PresenceTracker;
  readonly #hub: RoomHub;
  readonly #deps: SessionDeps;
  readonly #secret: string;
  readonly #heartbeat: Timer;

  constructor(options: ChatServiceOptions) {
    const clock = options.clock ?? systemClock;
    const observer = options.observer ?? {};
    const reportFailure = failureReporter(options.log, observer);
    this.#secret = options.secret;
    this.registry = new RoomRegistry({
      maxBufferedBytes: options.maxBufferedBytes,
      clock,
      fillGap: (room, afterSeq, beforeSeq) =>
        options.store.read(room, { afterSeq, beforeSeq, limit: beforeSeq - afterSeq, keep: 'oldest' }),
      onFillError: (err, room) => reportFailure('gap_fill', err, { room }, 'could not read a gap from the store'),
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
      presence: this.presence,
      limiter,
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
    // one sweep for every socket (no timer per socket): a silent peer goes within two intervals
    this.#heartbeat = clock.every(options.pingIntervalMs, () => {
      for (const conn of this.registry.connections()) conn.heartbeat();
    });
  }

  /** Shutting down: the hub refuses new writes (its flag is the one place this is kept). */
  get closing(): boolean {
    return this.#hub.closing;
  }

  /** Take over an upgraded socket for the member the handshake names. */
  open(socket: WebSocket, request: JoinRequest): Session {
    const uid = request.uid ?? ephemeralUid();
    const member = { id: memberId(this.#secret, request.room, uid), name: request.name ?? guestName() };
    return Session.open(this.#deps, socket, request.room, member, request.since);
  }

  /**
   * Shutdown: refuse new writes, wait for accepted ones to be stored, then close every socket with
   * 1001 so clients reconnect (with `since`) elsewhere or after the restart.
   */
  async close(): Promise<void> {
    if (this.#hub.closing) return;
    const stored = this.#hub.close(); // refuses new writes at once, resolves once accepted ones are stored
    this.#heartbeat.cancel();
    await stored;
    const sockets = [...this.registry.connections()].map((conn) => conn.socket);
    for (const conn of this.registry.connections()) conn.close(CLOSE_GOING_AWAY, 'server shutting down');
    await waitClosed(sockets, 2000);
    await this.presence.close();
  }
}

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
