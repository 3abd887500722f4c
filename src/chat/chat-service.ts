/**
 * The event path: a connection's frames are validated, limited, stored, then published to the
 * room on this instance (registry) and on every other (bus). Also the welcome of a new connection,
 * presence (join / leave) and the heartbeat.
 */
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { MessageBus } from './bus/message-bus.js';
import { Connection } from './connection.js';
import { canonicalDisplayName, ephemeralUid, guestName, memberId } from './names.js';
import { MemoryPresence } from './presence/memory.js';
import type { PresenceTracker } from './presence/presence.js';
import {
  type ClientFrame,
  checkText,
  type DirectFrame,
  type DirectFrameOut,
  type EventDraft,
  errorFrame,
  type Member,
  type MessageFrame,
  parseClientFrame,
  type Refusal,
  type RenameFrame,
  type TypingFrameOut,
} from './protocol.js';
import { type RateLimit, RateLimiter } from './rate-limit.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, RoomRegistry } from './room-registry.js';
import type { AppendInput, AppendResult, HistoryStore, StoredEvent } from './store/history-store.js';

/** Bad frames a connection may send; the next one closes it with 1008. */
export const MAX_BAD_FRAMES = 50;
/** Events in a welcome without `since`. */
export const WELCOME_HISTORY = 50;
/** Most events a welcome with `since` carries; older ones are paged over HTTP. */
export const RESUME_MAX = 1000;
const CLOSE_INTERNAL_ERROR = 1011;

export interface ChatLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Hooks for metrics; every one optional. Deliveries are counted in `registry.stats`. */
export interface ChatObserver {
  eventStored?(): void;
  /** Seconds from a message frame's arrival to the end of its fan-out on this instance. */
  messageLatency?(seconds: number): void;
}

export interface ChatServiceOptions {
  store: HistoryStore;
  bus: MessageBus;
  /** Key of the member-id hash. */
  secret: string;
  leaveGraceMs: number;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  log: ChatLogger;
  observer?: ChatObserver;
  /**
   * Presence, given the callback that logs a leave. @default a `MemoryPresence` of this process
   */
  presence?(onLeave: (room: string, member: Member) => void): PresenceTracker;
  /** The rate limiter. @default a `RateLimiter` of this process */
  limiter?: RateLimit;
}

/** What a client asked for in the handshake, already validated. */
export interface JoinRequest {
  room: string;
  uid?: string;
  name?: string;
  since?: number;
}

export class ChatService {
  readonly registry: RoomRegistry;
  readonly presence: PresenceTracker;
  readonly #limiter: RateLimit;
  /** Rooms whose bus channel this instance listens to, with the subscription in progress. */
  readonly #watching = new Map<string, Promise<void>>();
  readonly #opts: ChatServiceOptions;
  readonly #observer: ChatObserver;
  /** Appends not yet settled: shutdown waits for them. */
  readonly #inflight = new Set<Promise<AppendResult>>();
  /** Connections whose member is counted in presence. */
  readonly #counted = new WeakSet<Connection>();
  readonly #heartbeat: NodeJS.Timeout;
  #closing = false;
  /** Socket listeners, one of each for every socket (ws calls them with the socket as `this`). */
  readonly #onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly #onClose: (this: WebSocket) => void;

  constructor(options: ChatServiceOptions) {
    this.#opts = options;
    this.#observer = options.observer ?? {};
    this.registry = new RoomRegistry({
      maxBufferedBytes: options.maxBufferedBytes,
      fillGap: (room, afterSeq, beforeSeq) =>
        options.store.read(room, { afterSeq, beforeSeq, limit: beforeSeq - afterSeq, keep: 'oldest' }),
      onDrop: (conn) => this.#release(conn),
    });
    const onLeave = (room: string, member: Member) => void this.#logLeave(room, member);
    this.presence = options.presence?.(onLeave) ?? new MemoryPresence({ leaveGraceMs: options.leaveGraceMs, onLeave });
    this.#limiter =
      options.limiter ?? new RateLimiter({ perSec: options.rateLimitPerSec, burst: options.rateLimitBurst });
    options.bus.subscribe({
      deliver: (message) => {
        if (message.kind === 'event') {
          this.#noteRename(message.room, message.event);
          this.registry.deliver(message.room, message.event);
        } else {
          this.registry.deliverEphemeral(message.room, message.json, message.to, message.except);
        }
      },
      resync: () => {
        this.#opts.log.warn({}, 'bus reconnected: reading missed events from the store');
        this.registry.resync();
      },
    });
    const service = this;
    this.#onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      const conn = connections.get(this);
      if (!conn) return;
      if (conn.inbox) conn.inbox.push([data, isBinary]);
      else conn.inbox = [[data, isBinary]];
      void service.#drain(conn);
    };
    this.#onClose = function (this: WebSocket) {
      const conn = connections.get(this);
      if (conn) service.#release(conn);
    };
    this.#heartbeat = setInterval(() => this.registry.sweep(), options.pingIntervalMs);
    this.#heartbeat.unref();
  }

  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Take over an upgraded socket. Listeners are attached before anything is awaited, so no frame
   * is lost; frames that arrive before the welcome is sent are handled right after it.
   */
  open(socket: WebSocket, request: JoinRequest): Connection {
    const uid = request.uid ?? ephemeralUid();
    const member = { id: memberId(this.#opts.secret, request.room, uid), name: request.name ?? guestName() };
    const conn = new Connection(socket, request.room, member);
    connections.set(socket, conn);
    // listeners shared by every socket: nothing per connection but the Connection itself
    socket.on('message', this.#onMessage);
    socket.on('pong', onPong);
    socket.on('close', this.#onClose);
    this.#welcome(conn, request.since).then(
      () => {
        conn.welcomed = true;
        void this.#drain(conn);
      },
      (err) => {
        this.#opts.log.error({ err, room: conn.room }, 'welcome failed');
        conn.close(CLOSE_INTERNAL_ERROR, 'unavailable: try again');
      },
    );
    return conn;
  }

  /**
   * Handle a connection's frames one after the other, so that its messages are logged in the
   * order sent; frames that arrive before the welcome wait for it.
   */
  async #drain(conn: Connection): Promise<void> {
    if (conn.busy || !conn.welcomed) return;
    conn.busy = true;
    try {
      for (let next = conn.inbox?.shift(); next; next = conn.inbox?.shift()) {
        await this.#receive(conn, next[0], next[1]).catch((err) => this.#failed(conn, err));
      }
    } finally {
      conn.busy = false;
      conn.inbox = null;
    }
  }

  async #welcome(conn: Connection, since: number | undefined): Promise<void> {
    const { store } = this.#opts;
    const room = conn.room;
    this.registry.add(conn);
    // listen to the room's channel before reading the store: nothing falls between the two
    let watching = this.#watching.get(room);
    if (!watching) {
      watching = this.#opts.bus.watch(room);
      this.#watching.set(room, watching);
    }
    await watching;
    if (!this.registry.isStarted(room)) {
      const [latest, logged] = await Promise.all([store.latestSeq(room), store.loggedMembers(room)]);
      this.registry.start(room, latest);
      await this.presence.restore(room, logged);
    }
    if (conn.socket.readyState > 1) return this.#release(conn);
    const { member, entered } = await this.presence.connect(room, conn.member);
    conn.member = member;
    this.#counted.add(conn);
    let upTo: number;
    if (entered) {
      // logged even when the socket is already gone: its leave follows
      const joined = await this.#append({
        draft: { type: 'join', room, member: { ...member }, ts: now() },
        memberId: member.id,
      });
      this.#publish(room, joined.event);
      upTo = joined.event.seq;
    } else {
      upTo = await store.latestSeq(room);
    }
    if (conn.socket.readyState > 1) return this.#release(conn);
    let history: StoredEvent[];
    let truncated = false;
    if (since !== undefined) {
      history =
        since >= upTo ? [] : await store.read(room, { afterSeq: since, beforeSeq: upTo + 1, limit: RESUME_MAX });
      truncated = history.length > 0 && (history[0] as StoredEvent).seq > since + 1;
    } else {
      history = await store.read(room, { beforeSeq: upTo + 1, limit: WELCOME_HISTORY });
    }
    const members = await this.presence.members(room);
    // assembled from the stored JSON texts: history is never parsed and re-serialized
    const welcome =
      `{"type":"welcome","room":${JSON.stringify(room)},"you":${JSON.stringify(member)},` +
      `"members":${JSON.stringify(members)},` +
      `"history":[${history.map((e) => e.json).join(',')}],"seq":${upTo},"truncated":${truncated}}`;
    conn.sendFrame(welcome);
    this.registry.welcomed(conn, upTo);
  }

  /** The connection is gone (closed, or found dead at delivery). Idempotent. */
  #release(conn: Connection): void {
    if (this.registry.remove(conn) && !this.registry.hasRoom(conn.room)) {
      this.#watching.delete(conn.room);
      this.#opts.bus.unwatch(conn.room).catch(() => {});
    }
    if (this.#counted.delete(conn)) {
      Promise.resolve(this.presence.disconnect(conn.room, conn.memberId)).catch((err) =>
        this.#opts.log.warn({ err, room: conn.room }, 'presence update failed'),
      );
    }
  }

  async #receive(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    if (conn.closing || conn.socket.readyState !== 1) return;
    if (isBinary) return this.#refuse(conn, { code: 'bad_request', message: 'frames are JSON text, not binary' });
    const parsed = parseClientFrame(data.toString());
    if (!parsed.ok) return this.#refuse(conn, parsed);
    const frame: ClientFrame = parsed.frame;
    switch (frame.type) {
      case 'message':
        return this.#message(conn, frame);
      case 'typing':
        return this.#typing(conn);
      case 'rename':
        return this.#rename(conn, frame);
      case 'direct':
        return this.#direct(conn, frame);
    }
  }

  async #message(conn: Connection, frame: MessageFrame): Promise<void> {
    const startedAt = performance.now();
    const { clientMsgId } = frame;
    const text = checkText(frame.text);
    if (!text.ok) return this.#refuse(conn, { code: 'invalid_text', message: text.message, clientMsgId });
    if (!(await this.#admit(conn, clientMsgId))) return;
    const draft: EventDraft = {
      type: 'message',
      room: conn.room,
      id: randomUUID(),
      from: { ...conn.member },
      text: text.text,
      ts: now(),
      ...(clientMsgId === undefined ? {} : { clientMsgId }),
    };
    const stored = await this.#appendOrRefuse(conn, { draft, memberId: conn.memberId, clientMsgId });
    if (!stored) return;
    if (stored.duplicate) {
      conn.sendFrame(stored.event.json); // a retry: the original event, to the retrying connection only
      return;
    }
    this.#publish(conn.room, stored.event);
    this.#observer.messageLatency?.((performance.now() - startedAt) / 1000);
  }

  async #rename(conn: Connection, frame: RenameFrame): Promise<void> {
    const name = canonicalDisplayName(frame.name);
    if (!name.ok) return this.#refuse(conn, { code: 'invalid_name', message: name.reason });
    const member = conn.member;
    if (name.value === member.name) return; // nothing changes, nothing to log
    if (!(await this.#admit(conn))) return;
    const previous = member.name;
    const draft: EventDraft = {
      type: 'rename',
      room: conn.room,
      member: { id: member.id, name: name.value },
      previous,
      ts: now(),
    };
    const stored = await this.#appendOrRefuse(conn, { draft, memberId: member.id });
    if (!stored) return;
    // every tab of the member, here and on other instances, sends under the new name from now on
    await this.presence.renamed(conn.room, { id: member.id, name: name.value });
    this.#publish(conn.room, stored.event);
  }

  #typing(conn: Connection): void {
    const frame: TypingFrameOut = { type: 'typing', room: conn.room, member: { ...conn.member } };
    this.#ephemeral(conn.room, JSON.stringify(frame), undefined, conn.memberId);
  }

  async #direct(conn: Connection, frame: DirectFrame): Promise<void> {
    const { clientMsgId } = frame;
    const text = checkText(frame.text);
    if (!text.ok) return this.#refuse(conn, { code: 'invalid_text', message: text.message, clientMsgId });
    const to = await this.presence.online(conn.room, frame.to);
    if (!to) {
      return this.#refuse(conn, {
        code: 'recipient_offline',
        message: 'that member is not in this room right now',
        clientMsgId,
      });
    }
    if (!(await this.#admit(conn, clientMsgId))) return;
    const out: DirectFrameOut = {
      type: 'direct',
      id: randomUUID(),
      from: { ...conn.member },
      to: { ...to },
      text: text.text,
      ts: now(),
      ...(clientMsgId === undefined ? {} : { clientMsgId }),
    };
    const recipients = to.id === conn.memberId ? [to.id] : [to.id, conn.memberId];
    this.#ephemeral(conn.room, JSON.stringify(out), recipients);
  }

  /** Take a rate-limit token for the connection's member; refuse the frame when there is none. */
  async #admit(conn: Connection, clientMsgId?: string): Promise<boolean> {
    if (await this.#limiter.take(`${conn.room}\0${conn.memberId}`)) return true;
    this.#refuse(conn, {
      code: 'rate_limited',
      message: `slow down: at most ${this.#opts.rateLimitPerSec} messages a second`,
      clientMsgId,
    });
    return false;
  }

  #refuse(conn: Connection, refusal: Refusal): void {
    if (refusal.code === 'bad_request' || refusal.code === 'invalid_text' || refusal.code === 'invalid_name') {
      conn.badFrames++;
      if (conn.badFrames > MAX_BAD_FRAMES) {
        conn.close(CLOSE_POLICY, 'too many bad frames');
        return;
      }
    }
    const frame: Refusal = { code: refusal.code, message: refusal.message };
    if (refusal.clientMsgId !== undefined) frame.clientMsgId = refusal.clientMsgId;
    conn.sendFrame(errorFrame(frame));
  }

  /** Store an event for a connection's frame; on failure the client is told to retry. */
  async #appendOrRefuse(conn: Connection, input: AppendInput): Promise<AppendResult | null> {
    if (this.#closing) {
      this.#refuse(conn, {
        code: 'unavailable',
        message: 'the server is restarting: retry',
        clientMsgId: input.clientMsgId,
      });
      return null;
    }
    try {
      return await this.#append(input);
    } catch (err) {
      this.#opts.log.error({ err, room: conn.room }, 'append failed');
      this.#refuse(conn, {
        code: 'unavailable',
        message: 'could not store the message: retry',
        clientMsgId: input.clientMsgId,
      });
      return null;
    }
  }

  #append(input: AppendInput): Promise<AppendResult> {
    const pending = this.#opts.store.append(input);
    this.#inflight.add(pending);
    const settle = () => this.#inflight.delete(pending);
    pending.then(settle, settle);
    return pending;
  }

  /** Another instance logged a rename: local tabs of that member send under the new name. */
  #noteRename(room: string, event: StoredEvent): void {
    if (!event.json.startsWith('{"type":"rename"')) return;
    const { member } = JSON.parse(event.json) as { member: Member };
    Promise.resolve(this.presence.renamed(room, member)).catch(() => {});
  }

  #publish(room: string, event: StoredEvent): void {
    this.#observer.eventStored?.();
    this.registry.deliver(room, event);
    this.#opts.bus.publish({ kind: 'event', room, event }).catch((err) => {
      this.#opts.log.warn({ err, room }, 'bus publish failed; other instances fill the gap from the store');
    });
  }

  #ephemeral(room: string, json: string, to?: string[], except?: string): void {
    this.registry.deliverEphemeral(room, json, to, except);
    const message = { kind: 'ephemeral' as const, room, json, ...(to ? { to } : {}), ...(except ? { except } : {}) };
    this.#opts.bus.publish(message).catch((err) => this.#opts.log.warn({ err, room }, 'bus publish failed'));
  }

  async #logLeave(room: string, member: Member): Promise<void> {
    this.#limiter.forget(`${room}\0${member.id}`);
    if (this.#closing) return;
    try {
      const left = await this.#append({
        draft: { type: 'leave', room, member: { ...member }, ts: now() },
        memberId: member.id,
      });
      this.#publish(room, left.event);
    } catch (err) {
      this.#opts.log.error({ err, room }, 'could not log a leave');
    }
  }

  #failed(conn: Connection, err: unknown): void {
    // a bug of ours must not take the process (or another socket) down: tell this client only
    this.#opts.log.error({ err, room: conn.room }, 'frame handling failed');
    conn.sendFrame(errorFrame({ code: 'unavailable', message: 'internal error: retry' }));
  }

  /**
   * Shutdown: refuse new writes, wait for accepted ones to be stored, then close every socket with
   * 1001 so clients reconnect (with `since`) elsewhere or after the restart.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    await Promise.allSettled([...this.#inflight]);
    const sockets = [...this.registry.connections()].map((conn) => conn.socket);
    for (const conn of this.registry.connections()) conn.close(CLOSE_GOING_AWAY, 'server shutting down');
    await waitClosed(sockets, 2000);
    await this.presence.close();
  }
}

const now = () => new Date().toISOString();

/** The Connection of each socket, for the shared listeners. */
const connections = new WeakMap<WebSocket, Connection>();

function onPong(this: WebSocket): void {
  const conn = connections.get(this);
  if (conn) conn.alive = true;
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
