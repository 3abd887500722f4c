/**
 * `GET /ws?room=&name=&uid=&since=`: the handshake is checked before the upgrade (403 for a
 * foreign Origin, 400 for invalid parameters); the socket then belongs to the chat service.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

  app.get<{ Querystring: Query }>('/ws', { websocket: true, preValidation: checkHandshake }, (socket, req) => {
    app.chat.open(socket, req.join as JoinRequest);
  });
}
