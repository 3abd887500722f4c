/**
 * `GET /ws?room=&name=&uid=&since=` (the uid, for a browser, from its `rc_uid` cookie): the handshake is checked before the upgrade (403 for a
 * foreign Origin, 400 for invalid parameters, 429 over a per-address cap); the socket then
 * belongs to the chat service.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import type { WebSocket } from 'ws';
import { canonicalDisplayName, canonicalRoom } from '../chat/names.js';
import { type JoinQuery, JoinQuerySchema } from '../chat/protocol.js';
import type { JoinRequest } from '../chat/types.js';
import type { MemoryReclaimer } from '../memory-reclaimer.js';

type Query = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyRequest {
    join?: JoinRequest;
  }
}

const checkQuery = Compile(JoinQuerySchema);

/** What to say when a parameter does not match its schema. */
const QUERY_PROBLEMS: Record<keyof JoinQuery, string> = {
  room: 'a room name is required (?room=NAME)',
  name: 'give one display name',
  uid: 'uid must be 8 to 64 of A-Z a-z 0-9 _ -',
  since: 'since must be a seq (a whole number >= 0)',
};

/** The handshake's parameters, validated and made canonical; a string saying why when they are not. */
export function parseJoin(query: unknown): JoinRequest | string {
  // the room first: what is wrong with it is what a person most needs to hear
  const room = canonicalRoom((query as Partial<Record<string, unknown>> | null)?.room);
  if (!room.ok) return room.reason;
  if (!checkQuery.Check(query)) {
    const field = checkQuery.Errors(query)[0]?.instancePath.slice(1).split('/')[0] ?? '';
    return Object.hasOwn(QUERY_PROBLEMS, field) ? QUERY_PROBLEMS[field as keyof JoinQuery] : QUERY_PROBLEMS.room;
  }
  const join: JoinRequest = { room: room.value };
  if (query.name !== undefined) {
    const name = canonicalDisplayName(query.name);
    if (!name.ok) return name.reason;
    join.name = name.value;
  }
  if (query.uid !== undefined) join.uid = query.uid;
  if (query.since !== undefined) join.since = Number(query.since);
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

export default async function ws(
  app: FastifyInstance,
  { allowedOrigins, reclaimer }: { allowedOrigins: string[]; reclaimer?: MemoryReclaimer },
) {
  const allowed = new Set(allowedOrigins);
  async function checkHandshake(req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin) && !app.isOwnOrigin(origin, req.headers.host)) {
      return reply.code(403).send({ error: 'forbidden_origin', message: `origin ${origin} may not connect` });
    }
    if (app.chat.closing) return reply.code(503).send({ error: 'unavailable', message: 'shutting down' });
    const join = parseJoin(req.query);
    if (typeof join === 'string') return reply.code(400).send({ error: 'bad_request', message: join });
    // a browser's uid comes in its cookie (an invalid one is no uid: the room page replaces it)
    join.uid ??= req.cookieUid();
    join.address = req.ip ?? 'local';
    const admission = await app.chat.admitHandshake(join, join.address);
    if (!admission.ok) return reply.code(429).send({ error: 'rate_limited', message: admission.reason });
    // the TCP connection's end is the end of the request, upgraded or not (an injected request has none)
    const tcp = req.raw.socket as Socket | undefined;
    if (tcp) tcp.once('close', admission.release);
    else admission.release();
    req.join = join;
  }

  const onSocketError = socketErrorListener(app.log);
  // the upgrade's answer is written by ws, not by Fastify: security headers and compression of
  // the reply would be work for nothing on every join (a refusal is a short JSON error)
  const upgrade = { websocket: true, preValidation: checkHandshake, helmet: false, compress: false } as const;
  app.get<{ Querystring: Query }>('/ws', upgrade, (socket, req) => {
    const join = req.join as JoinRequest;
    releaseHandshake(socket, onSocketError);
    app.chat.open(socket, join);
    reclaimer?.opened();
  });
}
