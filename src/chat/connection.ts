/**
 * One WebSocket connection of a member: its place in the room's log and the few flags the
 * registry and the heartbeat need. Kept small: there can be tens of thousands.
 */
import type { RawData, WebSocket } from 'ws';
import type { Member } from './protocol.js';
import type { StoredEvent } from './store/history-store.js';

const OPEN = 1;

export class Connection {
  /** seq of the last event this connection has; later deliveries skip anything at or below it. */
  lastSeq = 0;
  /** Events delivered while the welcome is being prepared; null once welcomed. */
  backlog: StoredEvent[] | null = [];
  /** Bad frames received so far (the connection is closed past the limit). */
  badFrames = 0;
  /** Answered the last ping. */
  alive = true;
  /** Being closed (backlog, shutdown): skipped by delivery and by the heartbeat. */
  closing = false;
  /** The welcome was sent: frames from the client are handled from now on. */
  welcomed = false;
  /** Frames received and not handled yet, in order (created with the first). */
  inbox: Array<[data: RawData, isBinary: boolean]> | null = null;
  /** A frame is being handled (the next waits for it). */
  busy = false;

  constructor(
    readonly socket: WebSocket,
    readonly room: string,
    /** The member as this connection knows it; shared by all its tabs through presence. */
    public member: Member,
  ) {}

  get memberId(): string {
    return this.member.id;
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN && !this.closing;
  }

  /** Send a frame that is not part of the log (welcome, error, typing, direct). */
  sendFrame(json: string | Buffer): void {
    if (this.isOpen) this.socket.send(json, { binary: false });
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close(code, reason);
  }
}
