/**
 * One WebSocket of a member, as the transport sees it: where it sends, whether it is closing, and
 * whether it answered the last ping. This class is the only writer of that state. What the
 * connection has been delivered is the registry's (a `Seat`); what it sent us is its `Session`'s.
 * Kept small: there can be tens of thousands.
 */
import type { WebSocket } from 'ws';

const OPEN = 1;

export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Kicked or banned from the room (PROTOCOL.md v2). */
export const CLOSE_KICKED = 4003;

export class Connection {
  #closing = false;
  #alive = true;

  constructor(
    readonly socket: WebSocket,
    readonly room: string,
    /** The public id of its member; a member's tabs are connections with the same id. */
    readonly memberId: string,
    /** Unsent bytes the socket may hold before it is closed with 1013. */
    readonly maxBufferedBytes: number,
  ) {}

  /** Open and not being closed: deliveries and replies go out. */
  get isOpen(): boolean {
    return this.socket.readyState === OPEN && !this.#closing;
  }

  /** Being closed (slow, bad frames, shutdown): skipped by delivery and by the heartbeat. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Send a frame that is not part of the log (welcome, error reply). What the socket already holds
   * counts against the same cap as deliveries: a peer that does not read is closed, not fed.
   */
  sendFrame(json: string | Buffer): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CLOSE_TRY_AGAIN_LATER, 'too far behind: reconnect with since');
      return;
    }
    this.socket.send(json, { binary: false });
  }

  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.socket.close(code, reason);
  }

  /** The peer answered a ping. */
  ponged(): void {
    this.#alive = true;
  }

  /**
   * One heartbeat: a connection that did not answer the previous ping is terminated, the others
   * pinged again. A closing connection is left alone, so its close frame reaches the client.
   */
  heartbeat(): void {
    if (this.#closing) return;
    if (!this.#alive) {
      this.socket.terminate();
      return;
    }
    this.#alive = false;
    try {
      this.socket.ping();
    } catch {
      // the socket broke between the state check and the ping: it is gone either way
      this.socket.terminate();
    }
  }
}
