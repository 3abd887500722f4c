// The room's WebSocket: connects, resumes with `since` after any drop (exponential backoff with
// jitter), and hands every frame to its listener.

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
/** The close of a kicked (or banned) member. */
const CLOSE_KICKED = 4003;
/**
 * How long a frame that the server answers (a message, an edit, a private message) may go
 * without any frame coming back before the connection counts as dead: a server that went
 * silent, or a network that drops packets without closing anything. The page cannot see the
 * WebSocket's pings, so this is how it notices at once rather than at the next ping timeout.
 */
export const SILENT_MS = 5000;

/**
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'offline' | 'removed'} ConnectionState
 * @typedef {{
 *   room: string,
 *   name: () => string,
 *   since: () => number | null,
 *   onFrame: (frame: import('./types.js').ServerFrame) => void,
 *   onState: (state: ConnectionState, retryInMs?: number) => void,
 * }} ConnectionOptions
 */

export class RoomConnection {
  /** @type {WebSocket | null} */
  #socket = null;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer;
  #stopped = false;
  /** The browser says it has no network: no attempt until it says it is back. */
  #offline = false;
  /** @type {ConnectionOptions} */
  #opts;
  /** Set while answers are awaited; any frame pushes it back. @type {ReturnType<typeof setTimeout> | undefined} */
  #silence;
  /** The clientMsgIds sent and not answered yet on this socket. @type {Set<string>} */
  #awaited = new Set();
  /** How long the next silence may last: doubled after each reconnect it caused, until an answer comes. */
  #silentMs = SILENT_MS;

  /** @param {ConnectionOptions} options */
  constructor(options) {
    this.#opts = options;
  }

  get isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.#retryTimer);
    const { room, name, since } = this.#opts;
    // no uid: the browser sends its HttpOnly rc_uid cookie, which the room page set
    const params = new URLSearchParams({ room });
    if (name()) params.set('name', name());
    const seq = since();
    if (seq !== null) params.set('since', String(seq));
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws?${params}`);
    this.#socket = socket;
    this.#opts.onState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    socket.onmessage = (e) => {
      /** @type {import('./types.js').ServerFrame} */
      let frame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.#heard(frame);
      if (frame.type === 'welcome') {
        this.#attempt = 0;
        this.#opts.onState('open');
      }
      this.#opts.onFrame(frame);
    };
    socket.onclose = (e) => {
      if (this.#socket !== socket || this.#stopped) return;
      this.#socket = null;
      this.#quiet();
      if (e.code === CLOSE_KICKED) {
        // kicked or banned: coming back at once would only be refused again
        this.#stopped = true;
        this.#opts.onState('removed');
        return;
      }
      this.#scheduleRetry();
    };
  }

  /** Send a frame when open; false when it could not go now. @param {import('./types.js').ClientFrame} frame */
  send(frame) {
    if (!this.#socket || this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    // a message or a private message is always answered (its own copy, or an error)
    if ((frame.type === 'message' || frame.type === 'direct') && frame.clientMsgId) {
      this.#awaited.add(frame.clientMsgId);
      if (this.#silence === undefined) this.#listen(this.#socket);
    }
    return true;
  }

  /** Any frame is a sign of life: the wait starts again, and ends with the last answer. @param {import('./types.js').ServerFrame} frame */
  #heard(frame) {
    if (this.#awaited.size === 0) return;
    if ('clientMsgId' in frame && frame.clientMsgId && this.#awaited.delete(frame.clientMsgId))
      this.#silentMs = SILENT_MS;
    clearTimeout(this.#silence);
    this.#silence = undefined;
    if (this.#awaited.size > 0 && this.#socket) this.#listen(this.#socket);
  }

  /** @param {WebSocket} socket */
  #listen(socket) {
    this.#silence = setTimeout(() => this.#wentSilent(socket), this.#silentMs);
  }

  #quiet() {
    clearTimeout(this.#silence);
    this.#silence = undefined;
    this.#awaited.clear();
  }

  /**
   * Nothing came back in time: drop this socket without waiting for its close, and reconnect.
   * A server merely slow gets twice the time on the next socket.
   * @param {WebSocket} socket
   */
  #wentSilent(socket) {
    this.#silence = undefined;
    if (this.#socket !== socket || this.#stopped) return;
    this.#awaited.clear();
    this.#silentMs = Math.min(this.#silentMs * 2, 60_000);
    this.#socket = null;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close();
    this.#attempt = Math.max(this.#attempt, 1);
    this.#scheduleRetry();
  }

  /** After a kick or a ban: the user asks to come back. */
  rejoin() {
    this.#stopped = false;
    this.#attempt = 1;
    this.connect();
  }

  /** Try again now (the user asked, or the network came back). */
  retryNow() {
    this.#offline = false;
    if (this.#socket || this.#stopped) return;
    this.connect();
  }

  /**
   * The browser lost its network (`offline`): a socket left open would only look alive (sends
   * would wait in it), so it is dropped at once, and nothing is tried until `retryNow`.
   */
  wentOffline() {
    if (this.#stopped) return;
    this.#offline = true;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = null;
    this.#quiet();
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
    this.#attempt = Math.max(this.#attempt, 1); // what comes next is a reconnect
    this.#opts.onState('offline');
  }

  #scheduleRetry() {
    if (this.#offline) {
      this.#opts.onState('offline');
      return;
    }
    // full jitter over an exponential ceiling: a restarted server is not hit by everyone at once
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#attempt);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.#attempt++;
    this.#opts.onState('reconnecting', delay);
    this.#retryTimer = setTimeout(() => this.connect(), delay);
  }
}
