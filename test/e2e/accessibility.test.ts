/**
 * axe-core (WCAG 2.2 A and AA, and best practice) finds no violation on the landing, error and
 * room pages at 360 and 1200 px, light and dark, nor in any state the room page can be put in:
 * menus, dialogs, reply and edit modes, the emoji picker, mentions, search, the removed page.
 * axe is injected through the DevTools protocol (the pages' CSP refuses inline scripts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { useChromium } from './browser.js';
import { e2eRoom, memberAction, openRoom, RestartableServer } from './harness.js';

const browser = useChromium();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

type Found = { id: string; help: string; targets: string[] };

/** The violations axe finds on the page as it is now, in light and dark. */
async function audit(page: Page, state: string, found: string[]): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    if (!(await page.evaluate('typeof window.axe'))?.toString().includes('object')) await page.evaluate(AXE);
    const violations = (await page.evaluate(
      `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} } }).then((r) =>
        r.violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })))`,
    )) as Found[];
    for (const v of violations)
      found.push(`${state} (${scheme}): ${v.id}: ${v.help} [${v.targets.slice(0, 3).join(' | ')}]`);
  }
}

const report = (found: string[]) => (found.length ? `\n${found.join('\n')}` : '');

test('the landing and error pages have no violation at 360 and 1200 px, light and dark', async (t) => {
  const server = await RestartableServer.start(t);
  const found: string[] = [];
  for (const width of [360, 1200]) {
    const context = await browser().newContext({ viewport: { width, height: 760 } });
    t.after(() => context.close());
    await context.addInitScript(() =>
      localStorage.setItem('roomchat.recent', JSON.stringify([{ room: 'team-lunch', at: Date.now() }])),
    );
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('#recent-list li');
    await audit(page, `landing ${width}`, found);
    await page.fill('#room', 'bad room!');
    await page.click('#join-form button[type=submit]');
    await audit(page, `landing with an error ${width}`, found);
    await page.goto(`${server.url}/?room=${encodeURIComponent('bad room!')}`);
    await audit(page, `error page ${width}`, found);
    await page.goto(`${server.url}/?room=first-visit`);
    await page.waitForSelector('#name-dialog[open]');
    await audit(page, `name dialog ${width}`, found);
  }
  assert.deepEqual(found, [], report(found));
});

test('the room page has no violation in any state, at 360 and 1200 px, light and dark', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('a11y');
  const found: string[] = [];
  const alice = await openRoom(browser(), t, server.url, room, 'Alice'); // the owner
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const carol = await openRoom(browser(), t, server.url, room, 'Carol');
  await alice.page.click('#topic-edit');
  await audit(alice.page, 'topic dialog', found);
  await alice.page.fill('#topic-input', 'Plans for Friday');
  await alice.page.click('#topic-dialog button[value="save"]');
  await bob.send('Hello **everyone**, see https://example.com/plan and `npm start`');
  await alice.waitForMessage('Hello everyone, see https://example.com/plan and npm start');
  const hello = alice.page.locator('#events li.msg', { hasText: 'Hello everyone' });
  await hello.hover();
  await hello.getByRole('button', { name: 'React with 👍', exact: true }).click();
  await hello.getByRole('button', { name: 'Reply', exact: true }).click();
  await audit(alice.page, 'reply mode', found);
  await alice.send('@Bob sounds good');
  await alice.send(Array.from({ length: 30 }, (_, i) => `item ${i}`).join('\n'));
  await bob.waitForMessage('@Bob sounds good');
  await memberAction(carol.page, 'Alice', 'Send a private message');
  await carol.send('a private word');
  await alice.waitForMessage('a private word');
  await alice.page.focus('#text');
  await alice.page.keyboard.press('ArrowUp');
  await audit(alice.page, 'edit mode', found);
  await alice.page.keyboard.press('Escape');
  await audit(alice.page, 'a conversation at 1200 px', found);
  await audit(bob.page, 'a mention, a reply, reactions (the mentioned page)', found);

  await alice.page.click('#members li button.member-name:text-is("Bob")');
  await audit(alice.page, 'member menu', found);
  await alice.page.click('#member-menu button:text-is("Remove from room…")');
  await alice.page.waitForSelector('#kick-dialog[open]');
  await audit(alice.page, 'kick dialog', found);
  await alice.page.click('#kick-dialog .dialog-cancel');
  // the dialog's close event gives the focus back to Bob's name; typing before it would lose the
  // composer's focus, and the mention list with it, to that
  await alice.page.waitForFunction(() => document.activeElement?.matches('#members .member-name') === true);

  await alice.page.fill('#text', 'hi @b');
  await alice.page.waitForSelector('#mention-list li');
  await audit(alice.page, 'mention list', found);
  await alice.page.fill('#text', '');

  await hello.hover();
  await hello.getByRole('button', { name: 'More reactions' }).click();
  await alice.page.waitForSelector('emoji-picker .emoji-menu button');
  await audit(alice.page, 'emoji picker', found);
  await alice.page.keyboard.press('Escape');

  await alice.page.fill('#search', 'everyone');
  await alice.page.waitForSelector('#search-list li');
  await audit(alice.page, 'search results', found);
  await alice.page.keyboard.press('Escape');

  await alice.page.setViewportSize({ width: 360, height: 740 });
  await audit(alice.page, 'a conversation at 360 px', found);
  await alice.page.click('#members-toggle');
  await alice.page.waitForSelector('#members li.me', { state: 'visible' });
  await audit(alice.page, 'member drawer at 360 px', found);
  await alice.page.click('#members-close');

  // Carol is removed for an hour: her page's removed state
  await alice.page.click('#members-toggle');
  await memberAction(alice.page, 'Carol', 'Remove from room…');
  await alice.page.check('#kick-dialog input[value="60"]');
  await alice.page.click('#kick-dialog button[value="kick"]');
  await carol.page.waitForSelector('#removed:not([hidden])');
  await audit(carol.page, 'removed page at 1200 px', found);
  await carol.page.setViewportSize({ width: 360, height: 740 });
  await audit(carol.page, 'removed page at 360 px', found);
  assert.deepEqual(found, [], report(found));
});
