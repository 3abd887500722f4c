/**
 * The room page in real Chromium: chatting, isolation, safety, presence, typing, direct messages,
 * restarts, the outbox, IME input and scrollback.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seedMessages } from '../helpers.js';
import { useChromium } from './browser.js';
import { e2eRoom, memberAction, openRoom, RestartableServer, waitForMembers, waitOnline } from './harness.js';

const browser = useChromium();

test('two people chat in a room; a third in another room sees nothing', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const carol = await openRoom(browser(), t, server.url, `${room}-other`, 'Carol');
  await alice.send('Hi Bob');
  await bob.waitForMessage('Hi Bob');
  await bob.send('Hi Alice\nhow are you?');
  await alice.waitForMessage('Hi Alice\nhow are you?');
  assert.deepEqual(await alice.messages(), ['Hi Bob', 'Hi Alice\nhow are you?']);
  assert.deepEqual(await bob.messages(), ['Hi Bob', 'Hi Alice\nhow are you?']);
  assert.equal(await alice.page.locator('#events li.msg.own').count(), 1, "alice's own message is marked as hers");
  assert.equal(await alice.page.locator('#events li.msg .author').first().textContent(), 'Alice');
  await carol.page.waitForTimeout(200);
  assert.deepEqual(await carol.messages(), []);
  assert.equal(await carol.page.locator('#events li').count(), 1, 'only its own join');
});

test('markup in a message is shown as text and runs nothing', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob <i>');
  const attacks = ['<img src=x onerror="window.__pwned=1">', '<script>window.__pwned=2</script>'];
  for (const text of attacks) await alice.send(text);
  for (const text of attacks) await bob.waitForMessage(text);
  assert.deepEqual(await bob.messages(), attacks);
  assert.equal(await bob.page.locator('#events img').count(), 0, 'no element was created from the text');
  assert.equal(await bob.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.equal(await alice.page.locator('#members li', { hasText: 'Bob <i>' }).count(), 1, 'names are text too');
  const res = await fetch(`${server.url}/?room=${room}`);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  // style attributes only (the emoji picker's grid); never a script or a style element
  assert.deepEqual(
    csp
      .split(';')
      .filter((d) => d.includes('unsafe'))
      .map((d) => d.trim()),
    ["style-src-attr 'unsafe-inline'"],
  );
});

test('members and typing update live', async (t) => {
  const server = await RestartableServer.start(t, { leaveGraceMs: 300 });
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await waitForMembers(alice.page, 2);
  assert.deepEqual(await alice.page.$$eval('#members li .member-name', (l) => l.map((x) => x.textContent)), [
    'Alice',
    'Bob',
  ]);
  assert.equal(await alice.page.textContent('#members li.me .you'), '(you)');
  await bob.page.fill('#text', 'I am wri');
  await bob.page.type('#text', 't');
  await alice.page.waitForFunction(() => document.getElementById('typing')?.textContent === 'Bob is typing…');
  await bob.send('done');
  await alice.page.waitForFunction(() => document.getElementById('typing')?.textContent === '', undefined, {
    timeout: 2000,
  });
  await bob.page.context().close();
  await waitForMembers(alice.page, 1);
  assert.ok(await alice.page.locator('#events li.system', { hasText: 'Bob left' }).count());
});

test('a direct message reaches its target only, marked as private', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const carol = await openRoom(browser(), t, server.url, room, 'Carol');
  await waitForMembers(alice.page, 3);
  await memberAction(alice.page, 'Bob', 'Send a private message');
  assert.equal(await alice.page.isVisible('#dm-chip'), true);
  await alice.send('just for you');
  await bob.waitForMessage('just for you');
  await alice.waitForMessage('just for you');
  assert.equal(await bob.page.locator('#events li.direct .private').textContent(), 'private to you');
  assert.equal(await alice.page.locator('#events li.direct .private').textContent(), 'private to Bob');
  // private mode ends after sending (unless pinned)
  assert.equal(await alice.page.isVisible('#dm-chip'), false, 'private mode ended');
  await alice.send('for everyone');
  await carol.waitForMessage('for everyone');
  assert.deepEqual(await carol.messages(), ['for everyone'], 'carol never saw the private one');
});

test('a server restart mid-conversation loses nothing and shows nothing twice', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  for (const text of ['one', 'two']) await alice.send(text);
  await bob.waitForMessage('two');
  await server.stop();
  await alice.page.waitForFunction(() => !document.getElementById('banner')?.hidden);
  assert.match((await alice.page.textContent('#banner')) ?? '', /Reconnecting/);
  await server.start();
  await Promise.all([waitOnline(alice.page), waitOnline(bob.page)]);
  await bob.send('three');
  await alice.send('four');
  await Promise.all([alice.waitForMessage('four'), bob.waitForMessage('four'), alice.waitForMessage('three')]);
  assert.deepEqual(await alice.messages(), ['one', 'two', 'three', 'four']);
  assert.deepEqual(await bob.messages(), ['one', 'two', 'three', 'four']);
  const seqs = await bob.page.$$eval('#events li[data-seq]', (l) =>
    l.map((x) => Number((x as HTMLElement).dataset.seq)),
  );
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'in seq order',
  );
  assert.equal(new Set(seqs).size, seqs.length, 'each event once');
});

test('messages typed while offline wait in the outbox and go out exactly once', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await server.stop();
  await alice.page.waitForFunction(() => document.body.classList.contains('offline'));
  await alice.send('typed offline 1');
  await alice.send('typed offline 2');
  assert.equal(await alice.page.locator('#pending li.pending').count(), 2, 'shown as pending');
  assert.match((await alice.page.textContent('#pending li .status')) ?? '', /waiting for connection/);
  assert.deepEqual(await alice.messages(), [], 'not shown as sent');
  await server.start();
  await bob.waitForMessage('typed offline 2');
  await alice.waitForMessage('typed offline 2');
  await alice.page.waitForFunction(() => document.querySelectorAll('#pending li').length === 0);
  assert.deepEqual(await alice.messages(), ['typed offline 1', 'typed offline 2']);
  assert.deepEqual(await bob.messages(), ['typed offline 1', 'typed offline 2']);
  const stored = await server.store.read(room, { limit: 100 });
  assert.equal(stored.filter((e) => e.json.includes('typed offline')).length, 2, 'stored once each');
  await alice.page.reload();
  await alice.waitForMessage('typed offline 2');
  assert.equal(await alice.page.locator('#pending li').count(), 0, 'the outbox is empty after a reload');
});

test('Enter while an IME composition is open does not send; Enter after it does', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const page = alice.page;
  const sentSomething = () => page.locator('#pending li, #events li.msg').count();
  await page.focus('#text');
  const cdp = await page.context().newCDPSession(page);
  // what an IME does in Chromium: the Enter that confirms a conversion is a keydown with
  // isComposing (keyCode 229), then the composition is committed
  await cdp.send('Input.imeSetComposition', { text: 'にほんご', selectionStart: 4, selectionEnd: 4 });
  await cdp.send('Input.dispatchKeyEvent', {
    type: 'rawKeyDown',
    key: 'Enter',
    code: 'Enter',
    windowsVirtualKeyCode: 229,
  });
  await cdp.send('Input.insertText', { text: '日本語' });
  await page.waitForTimeout(150);
  assert.equal(await sentSomething(), 0, 'the confirming Enter sent nothing');
  assert.equal(await page.inputValue('#text'), '日本語');
  // some platforms report keyCode 13 with isComposing: still no send
  await cdp.send('Input.imeSetComposition', { text: 'です', selectionStart: 2, selectionEnd: 2 });
  await page.keyboard.press('Enter');
  await cdp.send('Input.insertText', { text: 'です' });
  await page.waitForTimeout(150);
  assert.equal(await sentSomething(), 0, 'nothing sent while composing');
  await page.fill('#text', '日本語です');
  await page.keyboard.press('Enter');
  await alice.waitForMessage('日本語です');
  assert.equal(await page.inputValue('#text'), '');
});

test('the composer refuses empty text and shows the length limit before the server does', async (t) => {
  const server = await RestartableServer.start(t);
  const alice = await openRoom(browser(), t, server.url, e2eRoom(), 'Alice');
  const page = alice.page;
  assert.equal(await page.isDisabled('#send'), true);
  await page.fill('#text', '   ');
  assert.equal(await page.isDisabled('#send'), true);
  await page.press('#text', 'Enter');
  await page.fill('#text', '語'.repeat(4001));
  assert.equal(await page.textContent('#counter'), '4001 / 4000');
  assert.equal(await page.isDisabled('#send'), true);
  await page.press('#text', 'Enter');
  await page.fill('#text', '語'.repeat(4000));
  assert.equal(await page.isDisabled('#send'), false);
  await page.press('#text', 'Enter');
  await alice.waitForMessage('語'.repeat(4000));
  assert.equal((await alice.messages()).length, 1);
});

test('scrolling to the top loads older messages and keeps the view in place', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  await seedMessages(server.store, room, 130);
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const page = alice.page;
  assert.equal((await alice.messages()).length, 49, 'the welcome holds the latest 50 events: 49 messages and the join');
  const firstText = (await alice.messages())[0];
  await page.evaluate(() => {
    document.getElementById('log')?.scrollTo(0, 0);
  });
  await page.waitForFunction(() => document.querySelectorAll('#events li.msg').length === 99);
  const anchorTop = await page.$eval(
    `#events li[data-seq="${82}"]`,
    (el) => el.getBoundingClientRect().top - (document.getElementById('log')?.getBoundingClientRect().top ?? 0),
  );
  assert.ok(anchorTop >= 0, 'the message that was at the top is still in view, not pushed away');
  assert.equal(firstText, '82');
  await page.evaluate(() => document.getElementById('log')?.scrollTo(0, 0));
  await page.waitForFunction(() => document.querySelectorAll('#events li.msg').length === 130);
  await page.waitForFunction(() => document.getElementById('log-top')?.dataset.state === 'start');
  const texts = await alice.messages();
  assert.deepEqual(
    texts,
    Array.from({ length: 130 }, (_, i) => String(i + 1)),
  );
});

test('scrolled up, a new message raises a pill instead of moving the view', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  await seedMessages(server.store, room, 60);
  const alice = await openRoom(browser(), t, server.url, room, 'Alice', { width: 800, height: 500 });
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await alice.page.evaluate(() => document.getElementById('log')?.scrollBy(0, -300));
  const before = await alice.page.$eval('#log', (el) => el.scrollTop);
  await bob.send('while you read');
  await alice.waitForMessage('while you read');
  assert.equal(await alice.page.isVisible('#new-pill'), true);
  assert.equal(await alice.page.$eval('#log', (el) => el.scrollTop), before, 'the view did not move');
  await alice.page.click('#new-pill');
  assert.equal(await alice.page.isVisible('#new-pill'), false);
});

test('the uid is an HttpOnly cookie: no script or URL sees it, and the member stays itself across reloads and tabs', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const context = await browser().newContext();
  t.after(() => context.close());
  await context.addInitScript(() => localStorage.setItem('roomchat.name', 'Alice'));
  const sockets: string[] = [];
  context.on('page', (p) => p.on('websocket', (ws) => sockets.push(ws.url())));
  const page = await context.newPage();
  await page.goto(`${server.url}/?room=${room}`);
  await waitOnline(page);
  const cookie = (await context.cookies()).find((c) => c.name === 'rc_uid');
  assert.ok(cookie, 'the room page set rc_uid');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
  const uid = cookie.value;
  const seen = await page.evaluate(() => ({
    cookies: document.cookie,
    stored: Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`),
  }));
  assert.equal(seen.cookies.includes(uid), false, 'document.cookie does not show it');
  assert.equal(seen.stored.join('\n').includes(uid), false, 'nothing in localStorage holds it');
  await page.fill('#text', 'mine before the reload');
  await page.press('#text', 'Enter');
  await page.waitForSelector('#events li.msg.own');
  await page.reload();
  await waitOnline(page);
  await page.waitForSelector('#events li.msg.own .text');
  assert.equal(await page.textContent('#events li.msg.own .text'), 'mine before the reload', 'still mine');
  const tab = await context.newPage();
  await tab.goto(`${server.url}/?room=${room}`);
  await waitOnline(tab);
  assert.equal(await tab.locator('#events li.msg.own').count(), 1, 'the second tab is the same member');
  assert.equal(await tab.locator('#members li').count(), 1, 'one member, two tabs');
  assert.ok(sockets.length >= 3, `the WebSockets were seen: ${sockets.length}`);
  for (const url of sockets) assert.equal(new URL(url).searchParams.has('uid'), false, `no uid in ${url}`);
  assert.equal(sockets.join('\n').includes(uid), false);
});
