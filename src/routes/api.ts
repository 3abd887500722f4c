/**
 * The HTTP API of a room's log: scrollback (`GET /api/rooms/:room/messages`, newest page by
 * default, older with `before`, newer with `after`, a page around one message with `around`) and
 * search (`GET /api/rooms/:room/search?q=`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { canonicalRoom } from '../chat/names.js';
import { SearchUnavailable, type StoredEvent } from '../chat/store/history-store.js';
import { codePoints } from '../shared/rules.js';
import { parseQuery, SEARCH_DEFAULT, SEARCH_MAX, SEARCH_Q_MAX } from '../shared/search.js';

export const SCROLLBACK_DEFAULT = 50;
export const SCROLLBACK_MAX = 200;

export const ScrollbackQuerySchema = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  around: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Integer({ minimum: 1, default: SCROLLBACK_DEFAULT }),
});
export type ScrollbackQuery = Static<typeof ScrollbackQuerySchema>;

/** Searches of one client address answered at once, at most: the rest are refused (429). */
export const SEARCHES_PER_ADDRESS = 2;

export const SearchQuerySchema = Type.Object({
  q: Type.Optional(Type.String()),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Integer({ minimum: 1, default: SEARCH_DEFAULT }),
});
export type SearchQuery = Static<typeof SearchQuerySchema>;

/** A page of events as the API answers it: the JSON texts as stored, never parsed again. */
function sendPage(reply: FastifyReply, room: string, events: readonly StoredEvent[], flags: Record<string, boolean>) {
  const rest = Object.entries(flags)
    .map(([k, v]) => `,${JSON.stringify(k)}:${v}`)
    .join('');
  return reply
    .type('application/json; charset=utf-8')
    .send(`{"room":${JSON.stringify(room)},"events":[${events.map((e) => e.json).join(',')}]${rest}}`);
}

export default async function api(app: FastifyInstance): Promise<void> {
  /** Searches running per client address (search-as-you-type aborts in the page, not here). */
  const searching = new Map<string, number>();

  app.get<{ Params: { room: string }; Querystring: ScrollbackQuery }>(
    '/api/rooms/:room/messages',
    { schema: { querystring: ScrollbackQuerySchema } },
    async (req, reply) => {
      const room = canonicalRoom(req.params.room);
      if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.reason });
      const { before, after, around } = req.query;
      if ([before, after, around].filter((x) => x !== undefined).length > 1) {
        return reply.code(400).send({ error: 'bad_request', message: 'give at most one of before, after and around' });
      }
      const limit = Math.min(req.query.limit, SCROLLBACK_MAX);
      const store = app.store;
      if (after !== undefined) {
        // newer events, oldest first; one more than asked tells whether newer ones remain
        const events = await store.read(room.value, { afterSeq: after, limit: limit + 1, keep: 'oldest' });
        return sendPage(reply, room.value, events.slice(0, limit), { hasNewer: events.length > limit });
      }
      if (around !== undefined) {
        // the event `around` (or where it was) with the older half of the page before it
        const olderWanted = Math.floor((limit - 1) / 2);
        const older = await store.read(room.value, { beforeSeq: around, limit: olderWanted + 1 });
        const hasMore = older.length > olderWanted;
        const kept = hasMore ? older.slice(1) : older;
        const newer = await store.read(room.value, {
          afterSeq: around - 1,
          limit: limit - kept.length + 1,
          keep: 'oldest',
        });
        const hasNewer = newer.length > limit - kept.length;
        return sendPage(reply, room.value, [...kept, ...newer.slice(0, limit - kept.length)], { hasMore, hasNewer });
      }
      // one more than asked tells whether older events remain
      const events = await store.read(room.value, { beforeSeq: before, limit: limit + 1 });
      const hasMore = events.length > limit;
      return sendPage(reply, room.value, hasMore ? events.slice(1) : events, { hasMore });
    },
  );

  app.get<{ Params: { room: string }; Querystring: SearchQuery }>(
    '/api/rooms/:room/search',
    { schema: { querystring: SearchQuerySchema } },
    async (req, reply) => {
      const room = canonicalRoom(req.params.room);
      if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.reason });
      const q = (req.query.q ?? '').trim();
      if (q === '' || codePoints(q) > SEARCH_Q_MAX) {
        return reply
          .code(400)
          .send({ error: 'invalid_query', message: `q must hold 1 to ${SEARCH_Q_MAX} characters after trim` });
      }
      // a search costs the client address a rate-limit token, runs within SEARCH_TIMEOUT_MS, and
      // an address has at most SEARCHES_PER_ADDRESS running
      const address = req.ip ?? 'local';
      const running = searching.get(address) ?? 0;
      if (running >= SEARCHES_PER_ADDRESS || !(await app.chat.admitSearch(address))) {
        return reply.code(429).send({ error: 'rate_limited', message: 'slow down: too many searches' });
      }
      searching.set(address, (searching.get(address) ?? 0) + 1);
      const limit = Math.min(req.query.limit, SEARCH_MAX);
      let found: StoredEvent[];
      try {
        found = await app.store.search(room.value, parseQuery(q), { beforeSeq: req.query.before, limit: limit + 1 });
      } catch (err) {
        if (!(err instanceof SearchUnavailable)) throw err;
        req.log.warn({ room: room.value, err }, 'a search was not answered');
        return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', message: err.message });
      } finally {
        const left = (searching.get(address) ?? 1) - 1;
        if (left > 0) searching.set(address, left);
        else searching.delete(address);
      }
      return sendPage(reply, room.value, found.slice(0, limit), { hasMore: found.length > limit });
    },
  );
}
