/**
 * A browser's uid is the HttpOnly `rc_uid` cookie the room page sets (PROTOCOL.md, "uid"); the
 * handshake takes it when the query has no `uid=`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, connect, listen, newRoom, newUid, testConfig } from './helpers.js';

const uidCookie = (setCookie: string | string[] | undefined) =>
  [setCookie ?? []].flat().find((c) => c.startsWith('rc_uid='));

test('the room page gives a browser without one an HttpOnly, SameSite=Lax uid cookie for a year', async (t) => {
  const app = await build(t);
  const page = await app.inject(`/?room=${newRoom()}`);
  assert.equal(page.statusCode, 200);
  const cookie = uidCookie(page.headers['set-cookie']);
  assert.ok(cookie, 'rc_uid is set');
  const uid = /^rc_uid=([^;]+)/.exec(cookie)?.[1] ?? '';
  assert.match(uid, /^[A-Za-z0-9_-]{8,64}$/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Lax/);
  assert.match(cookie, /; Path=\//);
  assert.match(cookie, /; Max-Age=31536000/);
  assert.doesNotMatch(cookie, /Secure/, 'plain http');
  assert.equal(page.body.includes(uid), false, 'the page itself does not carry it');

  const again = await app.inject({ url: `/?room=${newRoom()}`, headers: { cookie: `rc_uid=${uid}` } });
  assert.equal(uidCookie(again.headers['set-cookie']), undefined, 'a browser that has one keeps it');
  const invalid = await app.inject({ url: `/?room=${newRoom()}`, headers: { cookie: 'rc_uid=no' } });
  assert.ok(uidCookie(invalid.headers['set-cookie']), 'an invalid one is replaced');
  assert.equal(uidCookie((await app.inject('/')).headers['set-cookie']), undefined, 'the landing page sets none');
});

test('the uid cookie is Secure over https: PUBLIC_URL, or a trusted proxy saying so', async (t) => {
  const behindProxy = await build(t, testConfig(t, { trustProxy: ['127.0.0.1'] }));
  const viaTls = await behindProxy.inject({ url: `/?room=${newRoom()}`, headers: { 'x-forwarded-proto': 'https' } });
  assert.match(uidCookie(viaTls.headers['set-cookie']) ?? '', /; Secure/);
  const published = await build(t, testConfig(t, { publicUrl: 'https://chat.example.com' }));
  const page = await published.inject({ url: `/?room=${newRoom()}`, headers: { host: 'chat.example.com' } });
  assert.match(uidCookie(page.headers['set-cookie']) ?? '', /; Secure/);
});

test('a handshake without uid= is the member of its rc_uid cookie; uid= comes first', async (t) => {
  const { ws } = await listen(t);
  const room = newRoom();
  const uid = newUid();
  const byQuery = await connect(ws, room, { uid });
  const byCookie = await connect(ws, room, { headers: { Cookie: `rc_uid=${uid}` } });
  assert.equal(byCookie.welcome.you.id, byQuery.welcome.you.id, 'one member');
  const other = newUid();
  const both = await connect(ws, room, { uid: other, headers: { Cookie: `rc_uid=${uid}` } });
  assert.notEqual(both.welcome.you.id, byQuery.welcome.you.id, 'the query uid wins');
  const none = await connect(ws, room, { headers: { Cookie: 'rc_uid=bad' } });
  assert.notEqual(none.welcome.you.id, byQuery.welcome.you.id, 'an invalid cookie is no uid');
});
