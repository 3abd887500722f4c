/**
 * One connection's side of the conversation: its frames are queued as they arrive and handled one
 * after the other (so its messages are logged in the order sent), after its welcome; each is
 * parsed, counted against the bad-frame budget when it is bad, and handed to the handler of its
 * type (handlers/). The session owns the connection's member, its inbox and its budget, and undoes
 * its seat and presence when the socket goes.
 */
import type { RawData, WebSocket } from 'ws';
import { CLOSE_POLICY, Connection } from './connection.js';
import type { ChatContext, Handler, Peer } from './handlers/context.js';
import { handlers } from './handlers/index.js';
import { type ClientFrame, errorFrame, type Member, parseClientFrame, type Refusal } from './protocol.js';
import type { Seat } from './room-registry.js';
import type { JoinRequest } from './types.js';
import { type Joiner, type WelcomeDeps, welcome } from './welcome.js';

/** Bad frames a connection may send; the next one closes it with 1008. */
export const MAX_BAD_FRAMES = 50;
/** Refused frames of any kind (every `error` reply) a connection may cause; the next closes it with 1008. */
export const MAX_REFUSALS = 1000;
/** Frames, or bytes, waiting in a connection's inbox past which its socket is no longer read. */
export const INBOX_MAX_FRAMES = 256;
export const INBOX_MAX_BYTES = 256 * 1024;
/** Frames handled in a row before the drain lets the event loop serve everyone else. */
const YIELD_EVERY = 64;
const CLOSE_INTERNAL_ERROR = 1011;

export interface SessionDeps extends WelcomeDeps {
  ctx: ChatContext;
  /** Unsent bytes a socket may hold before it is closed with 1013. */
  maxBufferedBytes: number;
}

/** A queued frame, with what it counts against the inbox bound (measured once, on arrival). */
type Received = [data: RawData, isBinary: boolean, size: number];
const HANDLED: Received = [Buffer.alloc(0), false, 0];

/** What a queued frame costs: its bytes and the queue entry itself, so empty frames count too. */
const sizeOf = (data: RawData): number =>
  64 + (Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The Session of each socket, for the listeners every socket shares. */
const sessions = new WeakMap<WebSocket, Session>();

/** The session of a connection, while its socket is registered. */
export function sessionOf(conn: Connection): Session | undefined {
  return sessions.get(conn.socket);
}

export class Session implements Peer, Joiner {
  readonly conn: Connection;
  readonly address: string;
  readonly #deps: SessionDeps;
  #member: Member;
  #seat: Seat | null = null;
  /** Counted in presence (undone on release). */
  #counted = false;
  #welcomed = false;
  /** A frame is being handled (the next waits for it). */
  #busy = false;
  /** Frames received and not handled yet, from `#head` on (created with the first). */
  #inbox: Received[] | null = null;
  #head = 0;
  /** Bytes of the frames in the inbox. */
  #queuedBytes = 0;
  /** The socket is not read until the inbox is drained (TCP backpressure on the sender). */
  #paused = false;
  #badFrames = 0;
  #refusals = 0;

  /**
   * Take over an upgraded socket. Listeners are attached before anything is awaited, so no frame
   * is lost; frames that arrive before the welcome is sent are handled right after it.
   */
  static open(deps: SessionDeps, socket: WebSocket, request: JoinRequest, member: Member): Session {
    const { room, since, address = 'local' } = request;
    const conn = new Connection(socket, room, member.id, deps.maxBufferedBytes);
    const session = new Session(deps, conn, member, address);
    sessions.set(socket, session);
    // listeners shared by every socket: nothing per connection but the session itself
    socket.on('message', onMessage);
    socket.on('pong', onPong);
    socket.on('close', onClose);
    welcome(deps, session, member, since).then(
      () => {
        session.#welcomed = true;
        void session.#drain();
      },
      (err) => {
        deps.ctx.reportFailure('welcome', err, { room }, 'welcome failed');
        session.conn.close(CLOSE_INTERNAL_ERROR, 'unavailable: try again');
      },
    );
    return session;
  }

  private constructor(deps: SessionDeps, conn: Connection, member: Member, address: string) {
    this.#deps = deps;
    this.conn = conn;
    this.#member = member;
    this.address = address;
  }

  get room(): string {
    return this.conn.room;
  }

  get member(): Member {
    return this.#member;
  }

  get memberId(): string {
    return this.conn.memberId;
  }

  seated(seat: Seat): void {
    this.#seat = seat;
  }

  counted(member: Member): void {
    this.#member = member;
    this.#counted = true;
  }

  send(json: string): void {
    this.#deps.registry.flush(this.room); // the room's events of this turn go first
    this.conn.sendFrame(json);
  }

  refuse(refusal: Refusal): void {
    if (refusal.code === 'bad_request' || refusal.code === 'invalid_text' || refusal.code === 'invalid_name') {
      this.#badFrames++;
      if (this.#badFrames > MAX_BAD_FRAMES) {
        this.conn.close(CLOSE_POLICY, 'too many bad frames');
        return;
      }
    }
    this.#reply(errorFrame(refusal));
  }

  /** Send an `error` reply; every one counts against the connection's refusals. */
  #reply(error: string): void {
    this.#refusals++;
    if (this.#refusals > MAX_REFUSALS) {
      this.conn.close(CLOSE_POLICY, 'too many refused frames');
      return;
    }
    this.#deps.registry.flush(this.room); // an answer never overtakes the events before it
    this.conn.sendFrame(error);
  }

  /** The connection is gone (closed, or found dead at delivery). Idempotent. */
  release(): void {
    const { registry, hub, presence, ctx } = this.#deps;
    const seat = this.#seat;
    if (seat) {
      // the registry may have dropped the seat itself (a dead socket at delivery): the room's
      // channel is still left when it was the last one here
      this.#seat = null;
      registry.remove(seat);
      hub.unwatchIfEmpty(this.room);
    }
    if (this.#counted) {
      this.#counted = false;
      Promise.resolve(presence.disconnect(this.room, this.memberId)).catch((err) =>
        ctx.reportFailure('presence', err, { room: this.room }, 'presence update failed'),
      );
    }
  }

  /** A frame arrived: queue it, and handle it once those before it (and the welcome) are done. */
  receive(data: RawData, isBinary: boolean): void {
    const size = sizeOf(data);
    if (this.#inbox) this.#inbox.push([data, isBinary, size]);
    else this.#inbox = [[data, isBinary, size]];
    this.#queuedBytes += size;
    const over = this.#inbox.length - this.#head > INBOX_MAX_FRAMES || this.#queuedBytes > INBOX_MAX_BYTES;
    if (over && !this.#paused && this.conn.isOpen) {
      // frames ws already read still arrive; no more are read until the inbox is drained
      this.#paused = true;
      this.conn.socket.pause();
      this.#deps.ctx.observer.inboxPaused?.();
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    // a connection closing (refused at its welcome: banned; or kicked) handles nothing more
    if (this.#busy || !this.#welcomed || this.conn.closing) return;
    this.#busy = true;
    try {
      const inbox = this.#inbox;
      let inARow = 0;
      while (inbox && this.#head < inbox.length && !this.conn.closing) {
        const [data, isBinary, size] = inbox[this.#head] as Received;
        inbox[this.#head++] = HANDLED; // the frame's bytes go now, not at the next compaction
        this.#queuedBytes -= size;
        if (this.#head >= 1024 && this.#head * 2 >= inbox.length) {
          inbox.splice(0, this.#head); // handled frames go, without shifting the array per frame
          this.#head = 0;
        }
        await this.#handle(data, isBinary).catch((err) => this.#failed(err));
        // frames answered at once (typing, refusals) never wait for I/O: let the rest of the
        // server run between them, so one connection's backlog cannot hold up the others
        if (++inARow % YIELD_EVERY === 0) await nextTurn();
      }
    } finally {
      this.#busy = false;
      this.#inbox = null;
      this.#head = 0;
      this.#queuedBytes = 0;
      if (this.#paused) {
        // also when closing: the client's close frame must be read for the close to complete
        this.#paused = false;
        this.conn.socket.resume();
      }
    }
  }

  async #handle(data: RawData, isBinary: boolean): Promise<void> {
    if (!this.conn.isOpen) return;
    if (isBinary) return this.refuse({ code: 'bad_request', message: 'frames are JSON text, not binary' });
    const parsed = parseClientFrame(data.toString());
    if (!parsed.ok) return this.refuse(parsed);
    const frame = parsed.frame;
    const handler = handlers[frame.type] as Handler<ClientFrame>;
    return handler(this, frame, this.#deps.ctx);
  }

  #failed(err: unknown): void {
    // a bug of ours must not take the process (or another socket) down: tell this client only
    this.#deps.ctx.reportFailure('frame', err, { room: this.room }, 'frame handling failed');
    this.#reply(errorFrame({ code: 'unavailable', message: 'internal error: retry' }));
  }
}

// listeners shared by every socket; ws calls them with the socket as `this`
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessions.get(this)?.receive(data, isBinary);
}

function onPong(this: WebSocket): void {
  sessions.get(this)?.conn.ponged();
}

function onClose(this: WebSocket): void {
  sessions.get(this)?.release();
}
