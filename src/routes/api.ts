/** Scrollback: `GET /api/rooms/:room/messages?before=SEQ&limit=N`, newest first page by default. */
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { canonicalRoom } from '../chat/names.js';

export const SCROLLBACK_DEFAULT = 50;
export const SCROLLBACK_MAX = 200;

export const ScrollbackQuerySchema = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Integer({ minimum: 1, default: SCROLLBACK_DEFAULT }),
});
export type ScrollbackQuery = Static<typeof ScrollbackQuerySchema>;

export default async function api(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { room: string }; Querystring: ScrollbackQuery }>(
    '/api/rooms/:room/messages',
    { schema: { querystring: ScrollbackQuerySchema } },
    async (req, reply) => {
      const room = canonicalRoom(req.params.room);
      if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.reason });
      const limit = Math.min(req.query.limit, SCROLLBACK_MAX);
      // one more than asked tells whether older events remain
      const events = await app.store.read(room.value, { beforeSeq: req.query.before, limit: limit + 1 });
      const hasMore = events.length > limit;
      const page = hasMore ? events.slice(1) : events;
      return reply
        .type('application/json; charset=utf-8')
        .send(
          `{"room":${JSON.stringify(room.value)},"events":[${page.map((e) => e.json).join(',')}],"hasMore":${hasMore}}`,
        );
    },
  );
}
