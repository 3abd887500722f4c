/** `/`: the landing page, or with `?room=NAME` the room page (400 page for an invalid name). */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { canonicalRoom } from '../chat/names.js';

/** A fresh room name nobody guesses: 80 random bits. */
export function freshRoomName(): string {
  return `room-${randomBytes(10)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`;
}

export default async function pages(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { room?: unknown } }>('/', async (req, reply) => {
    const raw = req.query.room;
    if (raw === undefined)
      return reply.page('landing', { page: 'landing-page', title: 'roomchat', suggestion: freshRoomName() });
    const room = canonicalRoom(raw);
    if (!room.ok) {
      return reply.code(400).page('error', { page: 'error-page', title: 'Invalid room name', reason: room.reason });
    }
    return reply.page('room', { page: 'room-page', title: `#${room.value} · roomchat`, room: room.value });
  });
}
