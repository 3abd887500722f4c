/**
 * `GET /ws?room=&name=&uid=&since=`: the handshake is checked before the upgrade (403 for a
 * foreign Origin, 400 for invalid parameters); the socket then belongs to the chat service.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { JoinRequest } from '../chat/chat-service.js';
import { canonicalDisplayName, canonicalRoom, isValidUid } from '../chat/names.js';

type Query = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyRequest {
    join?: JoinRequest;
  }
}

/** The handshake's parameters, validated; a string saying why when they are not. */
export function parseJoin(query: Query): JoinRequest | string {
  const room = canonicalRoom(query.room);
  if (!room.ok) return room.reason;
  const join: JoinRequest = { room: room.value };
  if (query.name !== undefined) {
    if (typeof query.name !== 'string') return 'give one display name';
    const name = canonicalDisplayName(query.name);
    if (!name.ok) return name.reason;
    join.name = name.value;
  }
  if (query.uid !== undefined) {
    if (typeof query.uid !== 'string' || !isValidUid(query.uid)) return 'uid must be 8 to 64 of A-Z a-z 0-9 _ -';
    join.uid = query.uid;
  }
  if (query.since !== undefined) {
    const since = typeof query.since === 'string' && /^\d{1,15}$/.test(query.since) ? Number(query.since) : Number.NaN;
    if (!Number.isSafeInteger(since)) return 'since must be a seq (a whole number >= 0)';
    join.since = since;
  }
  return join;
}

/**
 * @fastify/websocket keeps the handshake's request and reply for as long as the socket lives: its
 * `error` listener closes over them and the raw response stays attached to the TCP socket. They
 * are a few KiB per connection that nothing needs after the upgrade: let them go.
 */
function releaseHandshake(socket: WebSocket, onError: (this: WebSocket, err: Error) => void): void {
  const tcp = (socket as unknown as { _socket?: { _httpMessage?: ServerResponse | null } })._socket;
  const response = tcp?._httpMessage;
  if (tcp && response) response.detachSocket(tcp as unknown as Parameters<ServerResponse['detachSocket']>[0]);
  socket.removeAllListeners('error');
  socket.on('error', onError);
}

/** One error listener for every socket: a protocol error from a client ends that connection. */
function socketErrorListener(log: FastifyBaseLogger) {
  return function onSocketError(this: WebSocket, err: Error): void {
    log.debug({ err }, 'websocket error');
    this.terminate();
  };
}

export default async function ws(app: FastifyInstance, { allowedOrigins }: { allowedOrigins: string[] }) {
  const allowed = new Set(allowedOrigins);
  const isOwnOrigin = (origin: string, host: string | undefined) =>
    host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);

  async function checkHandshake(req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin) && !isOwnOrigin(origin, req.headers.host)) {
      return reply.code(403).send({ error: 'forbidden_origin', message: `origin ${origin} may not connect` });
    }
    if (app.chat.closing) return reply.code(503).send({ error: 'unavailable', message: 'shutting down' });
    const join = parseJoin(req.query);
    if (typeof join === 'string') return reply.code(400).send({ error: 'bad_request', message: join });
    req.join = join;
  }

  const onSocketError = socketErrorListener(app.log);
  app.get<{ Querystring: Query }>('/ws', { websocket: true, preValidation: checkHandshake }, (socket, req) => {
    const join = req.join as JoinRequest;
    releaseHandshake(socket, onSocketError);
    app.chat.open(socket, join);
  });
}
