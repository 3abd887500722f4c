/**
 * The conversation as people read it, in real Chromium: mentions (autocomplete, highlight, the
 * alert on the mentioned page only), private messages kept across reloads, runs of joins folded,
 * day separators, long messages folded, the empty room's hint, and a server gone silent.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Clock } from '../../src/chat/clock.js';
import { systemClock } from '../../src/chat/clock.js';
import { useChromium } from './browser.js';
import {
  e2eRoom,
  memberAction,
  openRoom,
  RestartableServer,
  setHidden,
  waitForMembers,
  waitOnline,
} from './harness.js';

const browser = useChromium();

/** Count the alert sounds a page plays (its AudioContext's oscillators). */
const countBeeps = (page: Page) =>
  page.evaluate(`{
    window.__beeps = 0;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () { window.__beeps++; return create.call(this); };
  }`);
const beeps = (page: Page) => page.evaluate(() => (window as unknown as { __beeps: number }).__beeps);

test('@ offers the members; the mention is highlighted and alerts the mentioned page only', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('mention');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const carol = await openRoom(browser(), t, server.url, room, 'Carol');
  await waitForMembers(bob.page, 3);
  for (const p of [alice.page, carol.page]) {
    await countBeeps(p);
    await setHidden(p, true);
  }
  // alerts are for mentions only (the default): an ordinary message alerts nobody
  await bob.send('an ordinary message');
  await carol.waitForMessage('an ordinary message');

  await bob.page.click('#text');
  await bob.page.keyboard.type('lunch? @al');
  await bob.page.waitForSelector('#mention-list li[aria-selected="true"]:text-is("Alice")');
  assert.equal(await bob.page.getAttribute('#text', 'aria-activedescendant'), 'mention-0');
  await bob.page.keyboard.press('Enter'); // picks, does not send
  assert.equal(await bob.page.inputValue('#text'), 'lunch? @Alice ');
  await bob.page.keyboard.type('at noon');
  await bob.page.keyboard.press('Enter');
  await alice.waitForMessage('lunch? @Alice at noon');
  await carol.waitForMessage('lunch? @Alice at noon');

  const stored = await server.store.read(room, { limit: 10 });
  const message = stored.map((e) => JSON.parse(e.json)).find((e) => e.text === 'lunch? @Alice at noon');
  const aliceId = await alice.page.getAttribute('#members li.me', 'data-id');
  assert.deepEqual(message.mentions, [aliceId], 'the message carries the mentioned id');

  assert.equal(await alice.page.locator('#events li.msg.mentions-me').count(), 1, 'highlighted for Alice');
  assert.equal(await carol.page.locator('#events li.msg.mentions-me').count(), 0, 'not for Carol');
  assert.match(await alice.page.title(), /^@ \(2\) /, 'the title says Alice was mentioned');
  assert.match(await carol.page.title(), /^\(2\) /, 'Carol only counts unread messages');
  assert.equal(await beeps(alice.page), 1, 'one alert sound: notifications are not allowed in this browser');
  assert.equal(await beeps(carol.page), 0, 'no alert for Carol');
  assert.match((await alice.page.textContent('#announcer')) ?? '', /You were mentioned by Bob/);
  assert.match((await alice.page.textContent('#alerts')) ?? '', /Sound: mentions/);
  assert.match((await alice.page.getAttribute('#alerts', 'title')) ?? '', /sound/);
  // an address is not a mention
  await bob.send('write to x@alice.example');
  await carol.waitForMessage('write to x@alice.example');
  const address = (await server.store.read(room, { limit: 10 }))
    .map((e) => JSON.parse(e.json))
    .find((e) => e.text === 'write to x@alice.example');
  assert.equal(address.mentions, undefined, 'no mention in an address');
});

test('private messages survive a reload on both sides; Reply privately, Escape and pinning', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('dm');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await alice.send('hello all');
  await memberAction(alice.page, 'Bob', 'Send a private message');
  await alice.send('psst, Bob');
  await bob.waitForMessage('psst, Bob');
  assert.equal(await alice.page.isVisible('#dm-chip'), false, 'private mode ends after sending');

  // Bob answers from the message's own button, pins private mode, sends two, then leaves it with Escape
  const dm = bob.page.locator('#events li.direct', { hasText: 'psst, Bob' });
  await dm.hover();
  await dm.getByRole('button', { name: 'Reply privately' }).click();
  assert.equal(await bob.page.textContent('#dm-name'), 'Alice');
  await bob.page.check('#dm-pin');
  await bob.send('yes?');
  await bob.send('still here');
  await alice.waitForMessage('still here');
  assert.equal(await bob.page.isVisible('#dm-chip'), true, 'pinned: private mode stays');
  await bob.page.focus('#text');
  await bob.page.keyboard.press('Escape');
  assert.equal(await bob.page.isVisible('#dm-chip'), false, 'Escape leaves private mode');

  for (const p of [alice, bob]) {
    await p.page.reload();
    await waitOnline(p.page);
    await p.waitForMessage('still here');
  }
  const shown = (p: Page) =>
    p.$$eval('#events li.msg', (l) =>
      l.map((x) => `${x.classList.contains('direct') ? 'dm ' : ''}${x.querySelector('.text')?.textContent}`),
    );
  const expected = ['hello all', 'dm psst, Bob', 'dm yes?', 'dm still here'];
  assert.deepEqual(await shown(alice.page), expected, 'Alice, after a reload');
  assert.deepEqual(await shown(bob.page), expected, 'Bob, after a reload');
  assert.equal(await bob.page.textContent('#events li.direct .private >> nth=0'), 'private to you');
});

test('joins fold into one line, days are separated, long messages fold, an empty room says how to invite', async (t) => {
  let offset = -2 * 86_400_000; // the server lives two days ago, then today
  const clock: Clock = { ...systemClock, now: () => Date.now() + offset };
  const server = await RestartableServer.start(t, {}, { clock });
  const room = e2eRoom('days');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  assert.equal(await alice.page.isVisible('.empty-hint'), true, 'an empty room shows how to invite');
  assert.equal(await alice.page.isVisible('#invite'), true);
  for (const name of ['Bob', 'Carol', 'Dave', 'Erin', 'Frank']) await openRoom(browser(), t, server.url, room, name);
  await waitForMembers(alice.page, 6);
  const visibleSystem = () =>
    alice.page.$$eval('#events li.system', (l) =>
      l.filter((x) => (x as HTMLElement).offsetParent !== null).map((x) => x.querySelector('.line')?.textContent),
    );
  assert.deepEqual(await visibleSystem(), ['Alice, Bob and 4 others joined'], 'six joins, one line');

  await alice.send('two days ago');
  assert.equal(await alice.page.isVisible('.empty-hint'), false, 'the hint goes with the first message');
  offset = 0;
  const long = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n');
  await alice.send(long);
  await alice.page.waitForSelector('#events li.msg .text.folded');

  const days = await alice.page.$$eval('#events li.new-day', (l) => l.map((x) => (x as HTMLElement).dataset.day));
  assert.equal(days.length, 2, 'a separator for each day');
  assert.notEqual(days[0], days[1]);

  const item = alice.page.locator('#events li.msg', { hasText: 'line 40' });
  const folded = await item.locator('.text').evaluate((e) => e.clientHeight);
  assert.ok(folded < (await item.locator('.text').evaluate((e) => e.scrollHeight)), 'folded: part of it shows');
  await item.getByRole('button', { name: 'Show more' }).click();
  assert.equal(await item.locator('.fold').getAttribute('aria-expanded'), 'true');
  assert.ok((await item.locator('.text').evaluate((e) => e.clientHeight)) > folded, 'unfolded');
  assert.equal(await item.locator('.fold').textContent(), 'Show less');
  // every time says its full date on hover, grouped messages too
  const titles = await alice.page.$$eval('#events time', (l) => l.map((x) => (x as HTMLElement).title));
  assert.ok(titles.length >= 3 && titles.every((x) => /\d{4}/.test(x)), 'full dates on every time');
});

/** A TCP proxy in front of the server that can go silent: it keeps the sockets open and forwards nothing. */
async function silentableProxy(t: import('node:test').TestContext, port: number) {
  const pairs = new Set<{ frozen: boolean; client: Socket; upstream: Socket }>();
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const pair = { frozen: false, client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.frozen) client.write(chunk);
    });
    for (const s of [client, upstream]) s.on('error', () => s.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const close = () => {
    for (const p of pairs) p.client.destroy();
    proxy.close();
  };
  t.after(close);
  return {
    close,
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    /** Connections open now forward nothing more (and are not closed); new ones work. */
    silence() {
      for (const p of pairs) p.frozen = true;
    },
  };
}

test('a server gone silent is noticed when a message gets no answer: the page reconnects and the message goes out once', async (t) => {
  const server = await RestartableServer.start(t, { pingIntervalMs: 600_000 });
  const proxy = await silentableProxy(t, server.port);
  const room = e2eRoom('silent');
  const alice = await openRoom(browser(), t, proxy.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  proxy.silence(); // the network drops everything, and closes nothing
  await alice.send('into the void');
  await alice.page.waitForFunction(() => /Reconnecting/.test(document.getElementById('banner')?.textContent ?? ''));
  await bob.waitForMessage('into the void');
  await alice.waitForMessage('into the void');
  const stored = await server.store.read(room, { limit: 50 });
  assert.equal(stored.filter((e) => e.json.includes('into the void')).length, 1, 'stored once');
  proxy.close(); // before the server stops: it would wait for the frozen connection's close
});
