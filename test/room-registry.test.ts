import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebSocket } from 'ws';
import { Connection } from '../src/chat/connection.js';
import { CLOSE_TRY_AGAIN_LATER, RoomRegistry } from '../src/chat/room-registry.js';
import type { StoredEvent } from '../src/chat/store/history-store.js';
import { ManualClock } from './clock.js';

/** The part of a ws socket the registry touches, recording what it was asked to do. */
class RecordingSocket {
  readyState = 1;
  bufferedAmount = 0;
  /** The payloads written, whether through ws or straight to its socket as whole frames. */
  readonly sent: Buffer[] = [];
  /** Writes to the socket under ws (each may hold several frames). */
  writes = 0;
  readonly _sender = { _state: 0, _queue: [] };
  readonly _socket = {
    destroyed: false,
    writableLength: 0,
    write: (frames: Buffer) => {
      this.writes++;
      for (let at = 0; at < frames.length; ) {
        const frame = frames.subarray(at);
        assert.equal(frame[0], 0x81, 'a final text frame');
        const length = (frame[1] as number) < 126 ? (frame[1] as number) : frame.readUInt16BE(2);
        const header = (frame[1] as number) < 126 ? 2 : 4;
        assert.ok(frame.length >= header + length, 'the header tells the payload length');
        this.sent.push(frame.subarray(header, header + length));
        at += header + length;
      }
      return true;
    },
  };
  closedWith: number | null = null;
  terminated = false;
  pings = 0;
  send(data: string | Buffer) {
    this.sent.push(Buffer.from(data));
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 2;
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
  ping() {
    this.pings++;
  }
  get seqs() {
    return this.sent.map((b) => JSON.parse(String(b)).seq);
  }
}

const event = (room: string, seq: number): StoredEvent => ({
  seq,
  json: JSON.stringify({ type: 'message', room, seq, text: `m${seq}` }),
});

function setup(
  opts: {
    fill?: (room: string, after: number, before: number) => StoredEvent[];
    max?: number;
    /** When the events of a turn are written: at once unless a test holds them. */
    defer?: (deliver: () => void) => void;
  } = {},
) {
  const clock = new ManualClock();
  const fills: Array<Promise<unknown>> = [];
  const fillErrors: Array<[string, unknown]> = [];
  const registry = new RoomRegistry({
    maxBufferedBytes: opts.max ?? 1000,
    gapWaitMs: 20,
    clock,
    fillGap: (room, after, before) => {
      const read = new Promise<StoredEvent[]>((resolve) => resolve(opts.fill?.(room, after, before) ?? []));
      fills.push(read.catch(() => {}));
      return read;
    },
    onFillError: (err, room) => fillErrors.push([room, err]),
    defer: opts.defer ?? ((deliver) => deliver()),
  });
  const open = (room: string, member = 'm1', lastSeq = 0) => {
    const socket = new RecordingSocket();
    const conn = new Connection(socket as unknown as WebSocket, room, member, opts.max ?? 1000);
    const seat = registry.add(conn);
    registry.start(room, lastSeq);
    registry.welcomed(seat, lastSeq);
    return { socket, conn, seat };
  };
  /** Move the clock on, then let the gap reads it started settle and be delivered. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await Promise.all(fills);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const heartbeat = () => {
    for (const conn of registry.connections()) conn.heartbeat();
  };
  return { registry, open, advance, heartbeat, fillErrors };
}

test('events reach every connection of their room and no other, as identical bytes', () => {
  const { registry, open } = setup();
  const a = open('lobby', 'a');
  const b = open('lobby', 'b');
  const other = open('lobby2', 'c');
  registry.deliver('lobby', event('lobby', 1));
  registry.deliver('lobby', event('lobby', 2));
  assert.deepEqual(a.socket.seqs, [1, 2]);
  assert.deepEqual(b.socket.seqs, [1, 2]);
  const [x, y] = [a.socket.sent[0], b.socket.sent[0]];
  assert.ok(
    x?.buffer === y?.buffer && x?.byteOffset === y?.byteOffset,
    'one frame per event, the same bytes to every socket',
  );
  assert.deepEqual(other.socket.sent, []);
});

test('an event ahead of its turn waits; the gap is filled from the store, in order', async () => {
  const filled: Array<[number, number]> = [];
  const { registry, open, advance } = setup({
    fill: (room, after, before) => {
      filled.push([after, before]);
      return [event(room, 2)];
    },
  });
  const a = open('r', 'a');
  registry.deliver('r', event('r', 1));
  registry.deliver('r', event('r', 3)); // 2 is missing
  assert.deepEqual(a.socket.seqs, [1]);
  await advance(19);
  assert.deepEqual(filled, [], 'the wait is not over');
  await advance(1);
  assert.deepEqual(filled, [[1, 3]]);
  assert.deepEqual(a.socket.seqs, [1, 2, 3]);
  registry.deliver('r', event('r', 2)); // the late original is a duplicate now
  assert.deepEqual(a.socket.seqs, [1, 2, 3]);
});

test('a gap the store cannot fill is reported and read again after the next wait', async () => {
  let down = true;
  const { registry, open, advance, fillErrors } = setup({
    fill: (room) => {
      if (down) throw new Error('store unreachable');
      return [event(room, 2)];
    },
  });
  const a = open('r', 'a');
  registry.deliver('r', event('r', 1));
  registry.deliver('r', event('r', 3));
  await advance(20);
  assert.deepEqual(
    fillErrors.map(([room, err]) => [room, (err as Error).message]),
    [['r', 'store unreachable']],
  );
  assert.deepEqual(a.socket.seqs, [1]);
  down = false;
  await advance(20);
  assert.deepEqual(a.socket.seqs, [1, 2, 3]);
});

test('out-of-order arrivals are reordered without the store when the gap closes in time', async () => {
  let asked = false;
  const { registry, open, advance } = setup({
    fill: () => {
      asked = true;
      return [];
    },
  });
  const a = open('r', 'a');
  registry.deliver('r', event('r', 2));
  registry.deliver('r', event('r', 1));
  assert.deepEqual(a.socket.seqs, [1, 2]);
  await advance(1000);
  assert.equal(asked, false);
});

test('a connection collects deliveries until welcomed, then gets only what its welcome lacked', () => {
  const { registry } = setup();
  const socket = new RecordingSocket();
  const conn = new Connection(socket as unknown as WebSocket, 'r', 'a', 1000);
  const seat = registry.add(conn);
  registry.start('r', 0);
  registry.deliver('r', event('r', 1));
  registry.deliver('r', event('r', 2));
  assert.deepEqual(socket.sent, [], 'nothing before the welcome');
  registry.welcomed(seat, 1); // its welcome history ended at seq 1
  assert.deepEqual(socket.seqs, [2]);
});

test('dead sockets are skipped and dropped; slow ones are closed with 1013', () => {
  const { registry, open } = setup({ max: 100 });
  const live = open('r', 'a');
  const dead = open('r', 'b');
  const slow = open('r', 'c');
  dead.socket.readyState = 3;
  slow.socket.bufferedAmount = 101;
  registry.deliver('r', event('r', 1));
  assert.deepEqual(live.socket.seqs, [1]);
  assert.deepEqual(dead.socket.sent, []);
  assert.equal(slow.socket.closedWith, CLOSE_TRY_AGAIN_LATER);
  assert.deepEqual(slow.socket.sent, []);
  assert.equal(registry.connectionCount, 2, 'the dead one is gone, the slow one closes on its own');
  assert.deepEqual(registry.stats, { sent: 1, dropped: 1, slow: 1, queued: 0 });
  registry.deliver('r', event('r', 2));
  assert.deepEqual(slow.socket.sent, [], 'nothing more is queued behind a 1013');
});

test('a frame written behind unsent bytes (under the limit) is delivered and counted as queued', () => {
  const { registry, open } = setup({ max: 100 });
  const behind = open('r', 'a');
  const clear = open('r', 'b');
  behind.socket.bufferedAmount = 50;
  registry.deliver('r', event('r', 1));
  assert.deepEqual(behind.socket.seqs, [1]);
  assert.deepEqual(clear.socket.seqs, [1]);
  assert.deepEqual(registry.stats, { sent: 2, dropped: 0, slow: 0, queued: 1 });
});

test("a room's events of one turn go to each socket in one write, after what came before, before what comes after", () => {
  const turnEnds: Array<() => void> = [];
  const { registry, open } = setup({ defer: (deliver) => turnEnds.push(deliver) });
  const a = open('r', 'a');
  const b = open('r', 'b');
  const other = open('s', 'c');
  registry.deliver('r', event('r', 1));
  registry.deliver('r', event('r', 2));
  registry.deliver('s', event('s', 1));
  registry.deliver('r', event('r', 3));
  assert.deepEqual([a.socket.writes, other.socket.writes], [0, 0], 'nothing is written before the turn ends');
  assert.equal(turnEnds.length, 1, 'one delivery at the end of the turn for every room');
  turnEnds.shift()?.();
  assert.deepEqual(a.socket.seqs, [1, 2, 3]);
  assert.deepEqual(b.socket.seqs, [1, 2, 3]);
  assert.deepEqual([a.socket.writes, b.socket.writes], [1, 1], 'one write each for the three events');
  assert.deepEqual(other.socket.seqs, [1]);
  assert.deepEqual(registry.stats, { sent: 7, dropped: 0, slow: 0, queued: 0 }, 'counted per event');
  // an unlogged frame (typing) never overtakes the logged events of its turn
  registry.deliver('r', event('r', 4));
  registry.deliverEphemeral('r', JSON.stringify({ type: 'typing', seq: 'typing' }), undefined, 'b');
  assert.deepEqual(a.socket.seqs, [1, 2, 3, 4, 'typing']);
  turnEnds.shift()?.(); // the turn's delivery finds nothing left
  assert.deepEqual(b.socket.seqs, [1, 2, 3, 4]);
});

test('a kicked member gets the events of the turn up to its kick, then the close, and nothing after', () => {
  const turnEnds: Array<() => void> = [];
  const { registry, open } = setup({ defer: (deliver) => turnEnds.push(deliver) });
  const kicked = open('r', 'x');
  const other = open('r', 'y');
  const kick: StoredEvent = { seq: 2, json: JSON.stringify({ type: 'kick', room: 'r', seq: 2, member: { id: 'x' } }) };
  registry.deliver('r', event('r', 1));
  registry.deliver('r', kick);
  registry.deliver('r', event('r', 3));
  turnEnds.shift()?.();
  assert.deepEqual(kicked.socket.seqs, [1, 2]);
  assert.equal(kicked.socket.closedWith, 4003);
  assert.deepEqual(other.socket.seqs, [1, 2, 3]);
  assert.equal(other.socket.closedWith, null);
});

test('flush writes what a room got so far in the turn at once (before a reply to one of its members)', () => {
  const turnEnds: Array<() => void> = [];
  const { registry, open } = setup({ defer: (deliver) => turnEnds.push(deliver) });
  const a = open('r', 'a');
  registry.deliver('r', event('r', 1));
  registry.flush('r');
  assert.deepEqual(a.socket.seqs, [1]);
  turnEnds.shift()?.();
  assert.deepEqual(a.socket.seqs, [1], 'not twice');
});

test('a connection whose welcome already had part of the turn gets only the rest', () => {
  const turnEnds: Array<() => void> = [];
  const { registry, open } = setup({ defer: (deliver) => turnEnds.push(deliver) });
  const a = open('r', 'a');
  registry.deliver('r', event('r', 1));
  registry.deliver('r', event('r', 2));
  const late = registry.add(new Connection(new RecordingSocket() as unknown as WebSocket, 'r', 'z', 1000));
  const lateSocket = late.conn.socket as unknown as RecordingSocket;
  registry.welcomed(late, 1); // its welcome's history ended at seq 1
  turnEnds.shift()?.();
  assert.deepEqual(a.socket.seqs, [1, 2]);
  assert.deepEqual(lateSocket.seqs, [2]);
});

test('ephemeral frames go to chosen members, or to everyone but the sender', () => {
  const { registry, open } = setup();
  const a1 = open('r', 'a');
  const a2 = open('r', 'a');
  const b = open('r', 'b');
  const c = open('r', 'c');
  registry.deliverEphemeral('r', '{"type":"typing"}', undefined, 'a');
  assert.deepEqual(
    [a1, a2, b, c].map((x) => x.socket.sent.length),
    [0, 0, 1, 1],
  );
  registry.deliverEphemeral('r', '{"type":"direct"}', ['a', 'c']);
  assert.deepEqual(
    [a1, a2, b, c].map((x) => x.socket.sent.length),
    [1, 1, 1, 2],
  );
});

test('the heartbeat pings, terminates who missed a ping, and spares a 1013 close', () => {
  const { open, heartbeat } = setup();
  const answers = open('r', 'a');
  const silent = open('r', 'b');
  const closing = open('r', 'c');
  heartbeat();
  assert.deepEqual(
    [answers, silent, closing].map((x) => x.socket.pings),
    [1, 1, 1],
  );
  answers.conn.ponged();
  closing.conn.close(CLOSE_TRY_AGAIN_LATER, 'slow');
  heartbeat();
  assert.equal(answers.socket.terminated, false);
  assert.equal(silent.socket.terminated, true);
  assert.equal(closing.socket.terminated, false, 'a socket closed for its backlog is left to finish closing');
});

test('a room disappears with its last connection', () => {
  const { registry, open } = setup();
  const a = open('r', 'a');
  assert.equal(registry.roomCount, 1);
  assert.equal(registry.remove(a.seat), true);
  assert.equal(registry.remove(a.seat), false, 'removing twice is harmless');
  assert.equal(registry.roomCount, 0);
});

test('text frames carry any payload length with the right header', async () => {
  const { textFrame } = await import('../src/chat/frame.js');
  for (const length of [0, 125, 126, 65535, 65536, 70000]) {
    const frame = textFrame('x'.repeat(length));
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    assert.equal(frame.length, header + length);
    assert.equal(frame[0], 0x81);
    const declared = header === 2 ? frame[1] : header === 4 ? frame.readUInt16BE(2) : Number(frame.readBigUInt64BE(2));
    assert.equal(declared, length);
  }
  assert.equal(textFrame('語').length, 2 + 3, 'the length counts UTF-8 bytes');
});
