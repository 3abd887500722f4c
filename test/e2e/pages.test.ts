/**
 * The landing page, the first visit (name dialog), renaming, the phone layout and attention, in
 * real Chromium.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useChromium } from './browser.js';
import { e2eRoom, memberAction, openRoom, RestartableServer, setHidden } from './harness.js';

const browser = useChromium();

test('the landing page creates unguessable rooms, joins by name and lists recent rooms', async (t) => {
  const server = await RestartableServer.start(t);
  const context = await browser().newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(server.url);
  assert.equal(await page.isVisible('#recent'), false, 'no recent rooms on a first visit');
  await page.click('#create-room');
  await page.waitForURL(/\?room=room-[a-z2-7]{16}$/);
  const created = new URL(page.url()).searchParams.get('room');
  await page.fill('#name-dialog-input', 'Alice');
  await page.click('#name-dialog-form button.primary');
  await page.waitForSelector('#members li.me');

  await page.goto(server.url);
  await page.fill('#room', 'bad room!');
  await page.click('#join-form button[type=submit]');
  assert.match((await page.textContent('#room-error')) ?? '', /letters, digits/);
  assert.equal(new URL(page.url()).pathname, '/', 'stayed on the landing page');
  assert.match((await page.textContent('#create-room')) ?? '', /unlisted/, 'a room by link is not called private');
  await page.fill('#room', '  Team Lunch ');
  await page.click('#join-form button[type=submit]');
  await page.waitForURL(/\?room=team-lunch$/);
  assert.equal(await page.textContent('h1.room-name'), '#team-lunch');
  await page.waitForSelector('#members li.me');
  assert.equal(await page.isVisible('#name-dialog'), false, 'the name is asked once');
  await page.waitForFunction(() => document.activeElement?.id === 'text');
  await page.reload();
  await page.waitForSelector('#members li.me');
  await page.waitForFunction(() => document.activeElement?.id === 'text'); // the cursor is in the composer

  await page.goto(server.url);
  const recent = await page.$$eval('#recent-list a', (l) => l.map((a) => a.textContent));
  assert.deepEqual(recent, ['#team-lunch', `#${created}`]);
});

test('a first visit asks for a name; a rename shows to others and is remembered', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const context = await browser().newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(`${server.url}/?room=${room}`);
  await page.waitForSelector('#name-dialog[open]');
  await page.fill('#name-dialog-input', 'Alice');
  await page.press('#name-dialog-input', 'Enter');
  await bob.page.waitForFunction(() =>
    [...document.querySelectorAll('#members li .member-name')].some((l) => l.textContent === 'Alice'),
  );
  await page.fill('#name', 'Ally');
  await page.click('#name-form button');
  await bob.page.waitForSelector('#events li.system:has-text("Alice is now Ally")');
  await page.reload();
  await page.waitForSelector('#members li.me .member-name:text-is("Ally")');
  assert.equal(await page.inputValue('#name'), 'Ally');
});

test('on a 360 px phone the header shows the room, Alerts is reachable, and the member drawer opens and closes', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const long = 'Maximilian Castellanos-Whitford';
  const alice = await openRoom(browser(), t, server.url, room, long, { width: 360, height: 720 });
  await openRoom(browser(), t, server.url, room, 'Bob');
  const page = alice.page;
  await page.waitForFunction(() => document.getElementById('member-count')?.textContent === '2');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling');
  const title = await page.$eval('h1.room-name', (h) => ({ shown: h.clientWidth, needed: h.scrollWidth }));
  assert.ok(title.shown >= title.needed, `the room's name is shown whole (${title.shown} of ${title.needed} px)`);
  // Alerts is on the page, and works
  assert.equal(await page.isVisible('#alerts'), true);
  await page.click('#alerts');
  assert.match((await page.textContent('#alerts')) ?? '', /: all$/);

  assert.equal(await page.isVisible('#members li.me'), false, 'the drawer is closed');
  await page.click('#members-toggle');
  assert.equal(await page.getAttribute('#members-toggle', 'aria-expanded'), 'true');
  await page.waitForSelector('#members li.me', { state: 'visible' });
  // the drawer slides in: measure where it stops, not at a fractional step of the slide
  await page.waitForFunction(
    () => getComputedStyle(document.getElementById('members-panel') as HTMLElement).transform === 'none',
  );
  // a long name is cut with an ellipsis, "(you)" stays, and no glyph stands for the presence dot
  const me = await page.$eval('#members li.me', (li) => {
    const name = li.querySelector('.member-name') as HTMLElement;
    return {
      cut: name.scrollWidth > name.clientWidth,
      ellipsis: getComputedStyle(name).textOverflow,
      you: (() => {
        const you = (li.querySelector('.you') as HTMLElement).getBoundingClientRect();
        const box = name.getBoundingClientRect();
        return (
          you.right <= li.getBoundingClientRect().right && Math.abs(you.top + you.bottom - box.top - box.bottom) < 12
        ); // one row
      })(),
      text: li.textContent,
    };
  });
  assert.deepEqual(me, { cut: true, ellipsis: 'ellipsis', you: true, text: `${long}owner(owner)(you)` });
  await page.click('#members-close');
  await page.waitForSelector('#members li.me', { state: 'hidden' });
  assert.equal(await page.getAttribute('#members-toggle', 'aria-expanded'), 'false');
  // a tap beside the open drawer closes it
  await page.click('#members-toggle');
  await page.waitForSelector('#members li.me', { state: 'visible' });
  await page.mouse.click(30, 400);
  await page.waitForSelector('#members li.me', { state: 'hidden' });
  // and a private message from it
  await page.click('#members-toggle');
  await memberAction(page, 'Bob', 'Send a private message');
  assert.equal(await page.isVisible('#dm-chip'), true, 'choosing a member starts a private message');
  await alice.send('hello from a phone');
  await alice.waitForMessage('hello from a phone');
});

test('while the tab is hidden, new messages count in the title', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom();
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const title = await alice.page.title();
  await setHidden(alice.page, true);
  await bob.send('one');
  await bob.send('two');
  await alice.waitForMessage('two');
  assert.equal(await alice.page.title(), `(2) ${title}`);
  assert.equal(await alice.page.textContent('#announcer'), 'Bob: two', 'announced to screen readers');
  await setHidden(alice.page, false);
  assert.equal(await alice.page.title(), title);
});
