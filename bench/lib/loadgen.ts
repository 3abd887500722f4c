/**
 * The load generator: WebSocket clients in rooms, senders at a fixed offered rate, and receivers
 * that check every message without parsing JSON. A message's text is `b|room|sender|n|sentAt`:
 * the receiver knows the room it came to (leaks), the sender's sequence (lost, duplicated, out
 * of order) and, on the same monotonic clock, the latency. Loopback only; everything is bounded.
 */
import WebSocket from 'ws';

export interface Member {
  ws: WebSocket;
  room: number;
  /** Index of this member as a sender in its room. */
  index: number;
  /** Per sender of the room: the last n received from it. */
  last: Int32Array;
}

export interface Counters {
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  leaked: number;
}

const MARK = Buffer.from('"text":"b|');
const LATENCY_CAP = 2_000_000;

export class LoadGenerator {
  readonly members: Member[] = [];
  /** Messages sent per room and sender. */
  readonly sent: Int32Array[] = [];
  readonly counters: Counters = { delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 };
  /** Latencies (ms) of deliveries while `recording`. */
  readonly latencies = new Float64Array(LATENCY_CAP);
  latencyCount = 0;
  recording = false;
  /** Deliveries while `recording`. */
  windowDeliveries = 0;
  /** Milliseconds from opening each connection to its welcome, in the order they arrived. */
  readonly welcomeMs: number[] = [];
  /**
   * Source addresses to spread connections over (e.g. 127.0.0.2 … 127.0.0.9): each gives its own
   * range of ephemeral ports, so more connections than one address has ports. Empty: the default.
   */
  localAddresses: string[] = [];

  constructor(
    /** The server's ws:// base; several (instances of one deployment): members alternate between them. */
    readonly base: string | string[],
    readonly rooms: number,
    readonly perRoom: number,
    readonly roomPrefix = `bench-${Date.now().toString(36)}`,
  ) {
    for (let r = 0; r < rooms; r++) this.sent.push(new Int32Array(perRoom));
  }

  /** Connect every member (in batches) and wait for each welcome. */
  async connect(batch = 100): Promise<void> {
    const todo: Array<[number, number]> = [];
    for (let r = 0; r < this.rooms; r++) for (let i = 0; i < this.perRoom; i++) todo.push([r, i]);
    for (let k = 0; k < todo.length; k += batch) {
      await Promise.all(todo.slice(k, k + batch).map(([r, i]) => this.#open(r, i)));
    }
  }

  /**
   * Open every member at once, at most `concurrency` handshakes in flight: a connection storm.
   * Resolves when every member has its welcome; `welcomeMs` has each one's wait.
   */
  async storm(concurrency: number): Promise<void> {
    const todo: Array<[number, number]> = [];
    for (let r = 0; r < this.rooms; r++) for (let i = 0; i < this.perRoom; i++) todo.push([r, i]);
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const [r, i] = todo[next++] as [number, number];
        await this.#open(r, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  }

  #open(room: number, index: number): Promise<void> {
    const uid = `bench${room}x${index}x${this.roomPrefix.slice(-6)}`;
    const n = this.members.length;
    const base = typeof this.base === 'string' ? this.base : (this.base[n % this.base.length] as string);
    const localAddress = this.localAddresses.length ? this.localAddresses[n % this.localAddresses.length] : undefined;
    const opened = performance.now();
    const ws = new WebSocket(`${base}/ws?room=${this.roomPrefix}-${room}&uid=${uid}&name=m${index}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      ...(localAddress ? { localAddress } : {}),
    });
    const member: Member = { ws, room, index, last: new Int32Array(this.perRoom).fill(-1) };
    this.members.push(member);
    return new Promise((resolve, reject) => {
      let welcomed = false;
      ws.on('message', (data: Buffer) => {
        if (!welcomed) {
          welcomed = true;
          this.welcomeMs.push(performance.now() - opened);
          // later errors (a reset as the run ends) show up as what did not arrive, in `settle`
          ws.removeListener('error', reject);
          ws.on('error', () => {});
          resolve();
          return;
        }
        this.#receive(member, data);
      });
      ws.once('error', reject);
    });
  }

  #receive(member: Member, data: Buffer): void {
    const at = data.indexOf(MARK);
    if (at < 0) return; // join, leave, typing: not ours to count
    let p = at + MARK.length;
    const field = () => {
      let n = 0;
      for (let c = data[p] as number; c !== 0x7c && c !== 0x22; c = data[++p] as number) n = n * 10 + c - 48;
      p++;
      return n;
    };
    const room = field();
    const sender = field();
    const n = field();
    const end = data.indexOf(0x22, p);
    const sentAt = Number(data.toString('latin1', p, end));
    const c = this.counters;
    c.delivered++;
    if (room !== member.room) {
      c.leaked++;
      return;
    }
    const last = member.last[sender] as number;
    if (n === last + 1) member.last[sender] = n;
    else if (n <= last) c.duplicated++;
    else {
      c.outOfOrder++;
      member.last[sender] = n;
    }
    if (this.recording) {
      this.windowDeliveries++;
      if (this.latencyCount < LATENCY_CAP) this.latencies[this.latencyCount++] = performance.now() - sentAt;
    }
  }

  /** Send one message from a member. */
  send(member: Member): void {
    const sent = this.sent[member.room] as Int32Array;
    const n = sent[member.index] as number;
    sent[member.index] = n + 1;
    const text = `b|${member.room}|${member.index}|${n}|${performance.now().toFixed(3)}`;
    member.ws.send(`{"type":"message","text":"${text}"}`);
  }

  /**
   * Offer `perSecond` messages a second for `ms`, spread over `senders` round robin, on a 5 ms
   * tick that makes up for timer drift.
   */
  async offer(senders: Member[], perSecond: number, ms: number): Promise<void> {
    const start = performance.now();
    let due = 0;
    let next = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - start;
        const target = Math.floor((Math.min(elapsed, ms) * perSecond) / 1000);
        for (; due < target; due++) this.send(senders[next++ % senders.length] as Member);
        if (elapsed >= ms) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
  }

  /**
   * Receivers that read in bursts, as clients behind real networks do: each member stops reading
   * its socket for `pauseMs` of every `everyMs` (phases spread over the members), so the server's
   * sockets back up. Returns a function that stops it and resumes every socket.
   */
  readInBursts(everyMs: number, pauseMs: number): () => void {
    type Readable = { pause(): void; resume(): void };
    const socketOf = (m: Member) => (m.ws as unknown as { _socket: Readable | null })._socket;
    const start = performance.now();
    const paused = new Uint8Array(this.members.length);
    const timer = setInterval(() => {
      const now = performance.now() - start;
      this.members.forEach((m, i) => {
        const phase = (now + (i * everyMs) / this.members.length) % everyMs;
        const stop = phase < pauseMs ? 1 : 0;
        if (stop === paused[i]) return;
        paused[i] = stop;
        if (stop) socketOf(m)?.pause();
        else socketOf(m)?.resume();
      });
    }, 5);
    return () => {
      clearInterval(timer);
      this.members.forEach((m, i) => {
        if (paused[i]) socketOf(m)?.resume();
      });
    };
  }

  /** Start a measured window. */
  record(): void {
    this.recording = true;
    this.windowDeliveries = 0;
    this.latencyCount = 0;
  }

  stopRecording(): { deliveries: number; p50: number; p99: number; max: number } {
    this.recording = false;
    const l = this.latencies.subarray(0, this.latencyCount).sort();
    const q = (x: number) => (l.length ? (l[Math.min(l.length - 1, Math.floor(x * l.length))] as number) : 0);
    return {
      deliveries: this.windowDeliveries,
      p50: q(0.5),
      p99: q(0.99),
      max: l.length ? (l[l.length - 1] as number) : 0,
    };
  }

  /**
   * Every message sent must have reached every member of its room: count what did not. A server
   * that fell behind is waited for while its deliveries keep arriving; what is still missing after
   * `quietMs` without one (or after `capMs` in all) is lost.
   */
  async settle(quietMs = 3000, capMs = 120_000): Promise<Counters> {
    const missing = () => {
      let lost = 0;
      for (const m of this.members) {
        const sent = this.sent[m.room] as Int32Array;
        for (let s = 0; s < this.perRoom; s++) lost += Math.max(0, (sent[s] as number) - 1 - (m.last[s] as number));
      }
      return lost;
    };
    const end = Date.now() + capMs;
    let delivered = this.counters.delivered;
    let quietSince = Date.now();
    while (missing() > 0 && Date.now() < end && Date.now() - quietSince < quietMs) {
      await new Promise((r) => setTimeout(r, 50));
      if (this.counters.delivered !== delivered) {
        delivered = this.counters.delivered;
        quietSince = Date.now();
      }
    }
    this.counters.lost = missing();
    return { ...this.counters };
  }

  async close(): Promise<void> {
    for (const m of this.members) m.ws.terminate();
    await new Promise((r) => setTimeout(r, this.members.length > 10_000 ? 2000 : 200));
  }
}
