/** `/`: the landing page, or with `?room=NAME` the room page (400 page for an invalid name). */
import type { FastifyInstance } from 'fastify';
import { canonicalRoom } from '../chat/names.js';
import { freshRoomName } from '../shared/rules.js';

export default async function pages(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { room?: unknown } }>('/', async (req, reply) => {
    const raw = req.query.room;
    if (raw === undefined)
      return reply.page('landing', { page: 'landing-page', title: 'roomchat', suggestion: freshRoomName() });
    const room = canonicalRoom(raw);
    if (!room.ok) {
      return reply.code(400).page('error', { page: 'error-page', title: 'Invalid room name', reason: room.reason });
    }
    // the member's uid, for the page's WebSocket (never seen by its scripts)
    return reply
      .ensureUidCookie()
      .page('room', { page: 'room-page', title: `#${room.value} · roomchat`, room: room.value });
  });
}
