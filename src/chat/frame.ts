/**
 * Fan-out without per-socket framing: an event's complete WebSocket frame (header and payload in
 * one buffer) is built once and that same buffer is written to every socket of the room. ws would
 * build a header per socket and write header and payload as two buffers (cork, writev, uncork).
 *
 * Writing to the socket under ws is safe only while ws itself has nothing queued for it, which
 * holds when compression is off (we never enable it): `writeFrame` checks and otherwise falls
 * back to `ws.send`. It uses two internals of ws 8 (`_socket`, `_sender`), checked on each call.
 * @see https://github.com/websockets/ws/blob/master/lib/sender.js
 */
import type { WebSocket } from 'ws';

/** The unmasked text frame (FIN, opcode 1) of a UTF-8 payload, allocated once. */
export function textFrame(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(json, header, 'utf8');
  return frame;
}

interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean; writableLength: number; destroyed: boolean } | null;
  _sender?: { _state?: number; _queue?: unknown[] };
}

/**
 * Write frames made by `textFrame` (one, or several concatenated); `payload` is their JSON (or the
 * events holding it), for ws when it cannot be bypassed.
 */
export function writeFrame(ws: WebSocket, frame: Buffer, payload: string | readonly { readonly json: string }[]): void {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  const sender = internals._sender;
  if (socket && !socket.destroyed && sender && sender._state === 0 && sender._queue?.length === 0) {
    socket.write(frame);
  } else if (typeof payload === 'string') {
    ws.send(payload);
  } else {
    for (const { json } of payload) ws.send(json);
  }
}
