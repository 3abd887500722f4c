import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalDisplayName, canonicalRoom, NAME_MAX } from '../src/chat/names.js';
import { TEXT_MAX } from '../src/chat/protocol.js';
import * as rules from '../src/shared/rules.js';
import { build, buildIfStale, seedMessages } from './helpers.js';

test('GET / is the landing page with a fresh room name to suggest', async (t) => {
  const app = await build(t);
  const a = await app.inject('/');
  const b = await app.inject('/');
  assert.equal(a.statusCode, 200);
  assert.match(a.headers['content-type'] as string, /text\/html/);
  const suggestion = (body: string) => /<code>\/\?room=([^<]+)<\/code>/.exec(body)?.[1];
  assert.match(suggestion(a.body) ?? '', /^room-[a-z0-9]{8,}$/);
  assert.notEqual(suggestion(a.body), suggestion(b.body));
});

test('GET /?room= renders the room with its canonical name', async (t) => {
  const app = await build(t);
  const r = await app.inject(`/?room=${encodeURIComponent('  日本語の部屋-ABC ')}`);
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /<title>#日本語の部屋-abc · roomchat<\/title>/);
  assert.match(r.body, /data-room="日本語の部屋-abc"/);
  assert.match(r.body, /<script type="module" src="\/assets\/v\/[\w-]{12}\/js\/room.js"><\/script>/);
  assert.doesNotMatch(r.body, /<script>/, 'no inline script');
});

test('an invalid room name is a 400 page that says why and reflects no markup', async (t) => {
  const app = await build(t);
  const r = await app.inject(`/?room=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
  assert.equal(r.statusCode, 400);
  assert.match(r.headers['content-type'] as string, /text\/html/);
  assert.match(r.body, /may only hold letters, digits/);
  assert.ok(!r.body.includes('<img src=x'), 'the name is not reflected as markup');
});

test('the client script and styles are served', async (t) => {
  const app = await build(t);
  const js = await app.inject('/assets/js/room.js');
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.equal((await app.inject('/assets/style.css')).statusCode, 200);
  assert.equal((await app.inject('/assets/js/landing.js')).statusCode, 200);
});

test('pages name their assets by a content version, cached as immutable; text is compressed', async (t) => {
  const app = await build(t);
  const page = await app.inject('/?room=cache');
  const base = /href="(\/assets\/v\/[\w-]{12})\/style.css"/.exec(page.body)?.[1];
  assert.ok(base, 'the stylesheet is named under a versioned base');
  assert.ok(page.body.includes(`src="${base}/js/room.js"`), 'and the script');
  const css = await app.inject({ url: `${base}/style.css`, headers: { 'accept-encoding': 'br, gzip' } });
  assert.equal(css.statusCode, 200);
  assert.match(css.headers['cache-control'] as string, /max-age=31536000.*immutable|immutable.*max-age=31536000/);
  assert.equal(css.headers['content-encoding'], 'br');
  const plain = await app.inject('/assets/style.css');
  assert.match(plain.headers['cache-control'] as string, /max-age=0/, 'unversioned: revalidated');
  assert.equal(plain.headers['content-encoding'], undefined, 'nothing compressed for a client that did not ask');
  const html = await app.inject({ url: '/?room=cache', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(html.headers['content-encoding'], 'gzip');
  assert.equal((await app.inject({ url: '/nope/assets', headers: { 'accept-encoding': 'br' } })).statusCode, 404);
});

test("the client's rules module is served, built from the server's", async (t) => {
  buildIfStale();
  const app = await build(t);
  const r = await app.inject('/assets/js/rules.js');
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /javascript/);
  const served: typeof rules = await import(`data:text/javascript,${encodeURIComponent(r.body)}`);
  assert.deepEqual(Object.keys(served).sort(), Object.keys(rules).sort());
  for (const [name, value] of Object.entries(rules)) {
    if (typeof value !== 'function') assert.equal(served[name as keyof typeof rules], value, name);
  }
  assert.equal(served.TEXT_MAX, TEXT_MAX);
  assert.equal(served.NAME_MAX, NAME_MAX);
  for (const raw of ['  Team-Lunch ', '日本語の部屋', 'bad room!', 'x'.repeat(65)]) {
    assert.deepEqual(served.canonicalRoom(raw), canonicalRoom(raw), raw);
  }
  assert.deepEqual(served.canonicalDisplayName(' A\u0301da '), canonicalDisplayName(' A\u0301da '));
  assert.equal(served.codePoints('😀語a'), 3);
  assert.ok(canonicalRoom(served.freshRoomName()).ok);
});

test('health, readiness and metrics', async (t) => {
  const app = await build(t);
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  const ready = await app.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready', store: 'ok', bus: 'ok' });
  const metrics = await app.inject('/metrics');
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  for (const name of ['roomchat_connections', 'roomchat_rooms', 'roomchat_members', 'roomchat_events_stored_total']) {
    assert.match(metrics.body, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});

test('readiness is 503 when the store does not answer', async (t) => {
  const app = await build(t);
  await app.store.close();
  const r = await app.inject('/readyz');
  assert.equal(r.statusCode, 503);
  assert.equal(r.json().store, 'down');
});

test('scrollback: newest page by default, before/limit paging, limit capped at 200', async (t) => {
  const app = await build(t);
  const room = 'scroll';
  await seedMessages(app.store, room, 250);
  const page = async (qs: string) => (await app.inject(`/api/rooms/SCROLL/messages${qs}`)).json();
  const first = await page('');
  assert.equal(first.room, 'scroll');
  assert.deepEqual(
    [first.events.length, first.events[0].seq, first.events.at(-1).seq, first.hasMore],
    [50, 201, 250, true],
  );
  const older = await page('?before=201&limit=100');
  assert.deepEqual([older.events[0].seq, older.events.at(-1).seq, older.hasMore], [101, 200, true]);
  const last = await page('?before=101&limit=100');
  assert.deepEqual([last.events.length, last.hasMore], [100, false]);
  assert.equal((await page('?limit=1000')).events.length, 200);
  const empty = await app.inject('/api/rooms/never-used/messages');
  assert.deepEqual(empty.json(), { room: 'never-used', events: [], hasMore: false });
  assert.equal((await app.inject('/api/rooms/bad!/messages')).statusCode, 400);
  assert.equal((await app.inject('/api/rooms/scroll/messages?limit=0')).statusCode, 400);
  assert.equal((await app.inject('/api/rooms/scroll/messages?before=x')).statusCode, 400);
});

test('injectWS: the welcome is the first frame, with the member and an empty history', async (t) => {
  const app = await build(t);
  // the welcome may arrive before injectWS resolves: listen from the start
  let first!: Promise<unknown>;
  const ws = await app.injectWS(
    '/ws?room=Lobby&name=%20Alice%20&uid=uid-alice-123',
    {},
    {
      onInit: (socket) => {
        first = new Promise((r) => socket.once('message', r));
      },
    },
  );
  t.after(() => ws.terminate());
  const welcome = JSON.parse(String(await first));
  assert.equal(welcome.type, 'welcome');
  assert.equal(welcome.room, 'lobby');
  assert.equal(welcome.you.name, 'Alice');
  assert.ok(!JSON.stringify(welcome).includes('uid-alice'), 'the uid never appears');
  assert.deepEqual(welcome.members, [welcome.you]);
  assert.equal(welcome.history.length, 1, 'its own join');
  assert.deepEqual([welcome.history[0].type, welcome.seq, welcome.truncated], ['join', 1, false]);
});

test('injectWS: invalid handshakes are refused with 400, foreign origins with 403', async (t) => {
  const app = await build(t);
  const status = (path: string, headers: Record<string, string> = {}) =>
    app.injectWS(path, { headers }).then(
      (ws) => {
        ws.terminate();
        return 101;
      },
      (err: Error) => Number(/(\d{3})/.exec(err.message)?.[1]),
    );
  assert.equal(await status('/ws'), 400);
  assert.equal(await status('/ws?room=bad!'), 400);
  assert.equal(await status('/ws?room=ok&uid=short'), 400);
  assert.equal(await status(`/ws?room=ok&name=${'n'.repeat(33)}`), 400);
  assert.equal(await status('/ws?room=ok&since=-1'), 400);
  assert.equal(await status('/ws?room=ok', { origin: 'http://evil.example' }), 403);
  assert.equal(await status('/ws?room=ok', { origin: 'null' }), 403);
  assert.equal(await status('/ws?room=ok', { origin: 'http://allowed.example' }), 101);
  assert.equal(await status('/ws?room=ok'), 101);
});
