/**
 * Replies, edits, deletion and reactions in the room page, in real Chromium: each action from the
 * message's own buttons (or the keyboard), seen live on the other page and after its reload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { useChromium } from './browser.js';
import { e2eRoom, openRoom, RestartableServer, waitOnline } from './harness.js';

const browser = useChromium();

/** The message item whose text is `text` (or was: its id is kept by the caller). */
const messageWith = (page: Page, text: string) => page.locator('#events li.msg', { hasText: text }).last();

async function act(page: Page, text: string, label: string): Promise<void> {
  const item = messageWith(page, text);
  await item.hover();
  await item.getByRole('button', { name: label, exact: true }).click();
}

test('an edit and a delete reach the other page live and after its reload', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('edit');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await alice.send('frist post');
  await bob.waitForMessage('frist post');

  // Up in the empty composer edits one's last message; Enter sends the edit
  await alice.page.click('#text');
  await alice.page.keyboard.press('ArrowUp');
  assert.equal(await alice.page.inputValue('#text'), 'frist post');
  assert.match((await alice.page.textContent('#mode-chip')) ?? '', /Editing your message/);
  await alice.page.fill('#text', 'first post');
  await alice.page.press('#text', 'Enter');
  await bob.waitForMessage('first post');
  const edited = messageWith(bob.page, 'first post');
  assert.equal(await edited.locator('.edited').textContent(), '(edited)');
  assert.match((await edited.locator('.edited').getAttribute('title')) ?? '', /^edited /);
  assert.deepEqual(await alice.messages(), ['first post'], 'the author sees the edit in place, once');
  assert.equal(await alice.page.inputValue('#text'), '', 'the composer is empty again');

  await bob.page.reload();
  await waitOnline(bob.page);
  await bob.waitForMessage('first post');
  assert.equal(await messageWith(bob.page, 'first post').locator('.edited').count(), 1, 'edited after a reload too');

  // the author deletes it, after confirming
  alice.page.once('dialog', (d) => void d.accept());
  await act(alice.page, 'first post', 'Delete');
  await bob.page.waitForFunction(() =>
    [...document.querySelectorAll('#events li.msg .text')].some((e) => e.textContent === 'message deleted'),
  );
  assert.deepEqual(await bob.messages(), ['message deleted']);
  assert.equal(
    await bob.page.locator('#events li.msg.deleted .msg-actions').count(),
    0,
    'no actions on a deleted message',
  );
  await bob.page.reload();
  await waitOnline(bob.page);
  await bob.page.waitForSelector('#events li.msg.deleted');
  assert.deepEqual(await bob.messages(), ['message deleted'], 'deleted after a reload too');
  // Bob is neither its author nor a moderator: he has no delete button on Alice's messages
  await alice.send('second');
  await bob.waitForMessage('second');
  const item = messageWith(bob.page, 'second');
  await item.hover();
  assert.equal(await item.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
  assert.equal(await item.getByRole('button', { name: 'Edit', exact: true }).count(), 0);
});

test('a reaction changes the count on both pages; one’s own is marked and toggles', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('react');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await alice.send('react to this');
  await bob.waitForMessage('react to this');
  const reaction = (page: Page) => messageWith(page, 'react to this').locator('button.reaction');
  const state = async (page: Page) =>
    (await reaction(page).count()) === 0
      ? null
      : {
          text: (await reaction(page).innerText()).replace(/\s+/g, ' '),
          pressed: await reaction(page).getAttribute('aria-pressed'),
        };

  await act(bob.page, 'react to this', 'React with 👍');
  await alice.page.waitForFunction(() => document.querySelector('#events button.reaction .count')?.textContent === '1');
  assert.deepEqual(await state(alice.page), { text: '👍 1', pressed: 'false' });
  await bob.page.waitForFunction(() => document.querySelector('#events button.reaction .count')?.textContent === '1');
  assert.deepEqual(await state(bob.page), { text: '👍 1', pressed: 'true' }, 'one’s own reaction is marked');
  assert.match((await reaction(alice.page).getAttribute('title')) ?? '', /Bob reacted with 👍/);

  await reaction(alice.page).click(); // Alice adds hers through the count
  await bob.page.waitForFunction(() => document.querySelector('#events button.reaction .count')?.textContent === '2');
  await reaction(bob.page).click(); // Bob takes his back
  await alice.page.waitForFunction(() => document.querySelector('#events button.reaction .count')?.textContent === '1');
  assert.deepEqual(await state(alice.page), { text: '👍 1', pressed: 'true' });
  await bob.page.waitForFunction(
    () => document.querySelector('#events button.reaction')?.getAttribute('aria-pressed') === 'false',
  );

  await bob.page.reload();
  await waitOnline(bob.page);
  await bob.waitForMessage('react to this');
  assert.deepEqual(await state(bob.page), { text: '👍 1', pressed: 'false' }, 'the same after a reload');
});

test('a reply shows the message it answers; a click on the quote shows the original', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('reply');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await alice.send('the original question');
  for (let i = 1; i <= 30; i++) await alice.send(`filler ${i}`);
  await bob.waitForMessage('filler 30');
  await bob.page.evaluate(() => document.getElementById('log')?.scrollTo(0, 0));
  await act(bob.page, 'the original question', 'Reply');
  assert.match((await bob.page.textContent('#mode-chip')) ?? '', /Replying to Alice: the original question/);
  assert.equal(await bob.page.evaluate(() => document.activeElement?.id), 'text', 'the composer has the focus');
  await bob.send('the answer');
  await alice.waitForMessage('the answer');
  assert.ok(await bob.page.$eval('#mode-chip', (e) => (e as HTMLElement).hidden), 'reply mode ends with the send');
  const reply = messageWith(alice.page, 'the answer');
  assert.equal(await reply.locator('.quote-author').textContent(), 'Alice');
  assert.equal(await reply.locator('.quote-text').textContent(), 'the original question');

  await reply.locator('button.quote').click();
  const original = alice.page.locator('#events li.msg.found');
  await original.waitFor();
  assert.equal(await original.locator('.text').textContent(), 'the original question');
  const inView = await original.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const log = document.getElementById('log')?.getBoundingClientRect();
    return log !== undefined && box.top >= log.top && box.bottom <= log.bottom;
  });
  assert.ok(inView, 'the original is scrolled into view');
});

test('links and a small Markdown subset are shown; markup and javascript: links stay inert text', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('markdown');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const text = [
    '**bold** _it_ ~~gone~~ `code` see https://example.com/x?a=1 or www.example.org',
    '[x](javascript:alert(1)) **[y](javascript:alert(2))** [z](data:text/html,hi) <img src=x onerror="window.hacked=1">',
    '```',
    'const a = 1;',
    '    indented',
    '```',
    '> quoted',
    '',
    '- one',
    '- two',
  ].join('\n');
  await alice.page.fill('#text', text);
  await alice.page.press('#text', 'Enter');
  const item = bob.page.locator('#events li.msg').last();
  await item.locator('.text blockquote').waitFor();
  const shown = await item.locator('.text').evaluate((el) => ({
    strong: [...el.querySelectorAll('strong')].map((e) => e.textContent),
    em: [...el.querySelectorAll('em')].map((e) => e.textContent),
    s: [...el.querySelectorAll('s')].map((e) => e.textContent),
    code: [...el.querySelectorAll(':not(pre) > code')].map((e) => e.textContent),
    pre: el.querySelector('pre code')?.textContent,
    quote: el.querySelector('blockquote')?.textContent?.trim(),
    items: [...el.querySelectorAll('li')].map((e) => e.textContent),
    links: [...el.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.target, a.rel]),
    images: el.querySelectorAll('img').length,
    text: el.textContent ?? '',
  }));
  const rel = 'noopener noreferrer nofollow';
  assert.deepEqual(
    shown.links,
    [
      ['https://example.com/x?a=1', '_blank', rel],
      ['http://www.example.org', '_blank', rel],
    ],
    'http(s) and www. links only, opening apart',
  );
  assert.deepEqual(shown.strong, ['bold', '[y](javascript:alert(2))']);
  assert.deepEqual([shown.em, shown.s, shown.code], [['it'], ['gone'], ['code']]);
  assert.equal(shown.pre, 'const a = 1;\n    indented\n', 'a code block keeps its whitespace');
  assert.equal(shown.quote, 'quoted');
  assert.deepEqual(shown.items, ['one', 'two']);
  assert.equal(shown.images, 0);
  assert.ok(shown.text.includes('[x](javascript:alert(1))'), 'a javascript: link is shown as its text');
  assert.ok(shown.text.includes('[z](data:text/html,hi)'), 'a data: link is shown as its text');
  assert.ok(shown.text.includes('<img src=x onerror="window.hacked=1">'), 'markup is shown as text');
  assert.equal(await bob.page.evaluate(() => (window as { hacked?: number }).hacked), undefined, 'nothing ran');
  const overflow = await item.locator('pre').evaluate((el) => getComputedStyle(el).overflowX);
  assert.equal(overflow, 'auto', 'a long code line scrolls sideways');
});

test('the full emoji picker, served from here, finds an emoji by name and reacts with it', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('picker');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const requests: string[] = [];
  alice.page.on('request', (r) => requests.push(new URL(r.url()).host));
  await bob.send('taco tuesday?');
  await alice.waitForMessage('taco tuesday?');
  await act(alice.page, 'taco tuesday?', 'More reactions');
  await alice.page.waitForSelector('#emoji-dialog[open]');
  await alice.page.keyboard.type('taco'); // its search field has the focus
  const taco = alice.page.locator('emoji-picker [role="option"]', { hasText: '🌮' }).first();
  await taco.click();
  await alice.page.waitForSelector('#emoji-dialog', { state: 'hidden' });
  await bob.page.waitForSelector('#events li.msg .reaction:has-text("🌮")');
  assert.equal(await bob.page.textContent('#events li.msg .reaction .count'), '1');
  assert.deepEqual([...new Set(requests)], [new URL(server.url).host], 'nothing fetched from another origin');
});

test('by keyboard alone: arrows move between messages, Tab reaches their actions, Enter reacts and replies', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('keys');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await bob.send('first from Bob');
  await bob.send('second from Bob');
  await alice.waitForMessage('second from Bob');
  const active = () =>
    alice.page.evaluate(() => {
      const a = document.activeElement as HTMLElement;
      return a.matches('li.msg')
        ? `message: ${a.querySelector('.text')?.textContent}`
        : (a.getAttribute('aria-label') ?? a.id);
    });
  await alice.page.focus('#log');
  await alice.page.keyboard.press('ArrowUp');
  assert.equal(await active(), 'message: second from Bob', 'Up from the conversation: the last message');
  await alice.page.keyboard.press('ArrowUp');
  assert.equal(await active(), 'message: first from Bob');
  await alice.page.keyboard.press('Tab');
  assert.equal(await active(), 'Reply', 'Tab goes into its actions');
  await alice.page.keyboard.press('Tab');
  assert.equal(await active(), 'React with 👍');
  await alice.page.keyboard.press('Enter');
  await bob.page.waitForSelector('#events li.msg:has-text("first from Bob") .reaction:has-text("👍")');
  assert.equal(await active(), 'React with 👍', 'the focus stays on the control through the redraw');
  await alice.page.keyboard.press('Shift+Tab');
  await alice.page.keyboard.press('Enter');
  assert.match((await alice.page.textContent('#mode-chip')) ?? '', /Replying to Bob: first from Bob/);
  assert.equal(await active(), 'text', 'the composer has the focus');
  await alice.page.keyboard.type('answered by keyboard');
  await alice.page.keyboard.press('Enter');
  await bob.page.waitForSelector('#events li.msg:has-text("answered by keyboard") .quote');
});

test('on a touch screen a tap on a message shows its actions', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('touch');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const context = await browser().newContext({ viewport: { width: 360, height: 720 }, hasTouch: true, isMobile: true });
  t.after(() => context.close());
  await context.addInitScript(() => localStorage.setItem('roomchat.name', 'Bob'));
  const page = await context.newPage();
  await page.goto(`${server.url}/?room=${room}`);
  await waitOnline(page);
  await alice.send('tap me');
  const item = page.locator('#events li.msg', { hasText: 'tap me' });
  await item.waitFor();
  assert.equal(await item.getByRole('button', { name: 'Reply', exact: true }).isVisible(), false);
  await item.locator('.text').tap();
  await item.getByRole('button', { name: 'Reply', exact: true }).tap();
  assert.match((await page.textContent('#mode-chip')) ?? '', /Replying to Alice: tap me/);
});
