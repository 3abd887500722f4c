/**
 * Owner and moderators in the room page, in real Chromium: the topic under the room's name, roles
 * in the member list, a kick from a member's menu with its duration, and what the kicked page
 * shows (the ban's end, no reconnecting).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useChromium } from './browser.js';
import { e2eRoom, memberAction, openRoom, RestartableServer, waitForMembers } from './harness.js';

const browser = useChromium();

test('the owner sets the topic and makes a moderator; everyone sees both, live and after a reload', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('topic');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice'); // first in: the owner
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await waitForMembers(alice.page, 2);
  assert.equal(await alice.page.textContent('#members li.me .tag.owner'), 'owner');
  assert.equal(await bob.page.isVisible('#topic-edit'), false, 'a member cannot edit the topic');

  await alice.page.click('#topic-edit');
  await alice.page.fill('#topic-input', 'Lunch plans <b>only</b>');
  await alice.page.press('#topic-input', 'Enter'); // Enter saves
  await bob.page.waitForFunction(() => document.getElementById('topic')?.textContent === 'Lunch plans <b>only</b>');
  assert.equal(await bob.page.locator('#topic b').count(), 0, 'the topic is text');
  await bob.page.waitForSelector('#events li.system:has-text("Alice set the topic: Lunch plans")');

  // the member menu: Bob becomes a moderator, marked in both lists; he may now edit the topic
  await memberAction(alice.page, 'Bob', 'Make moderator');
  await bob.page.waitForSelector('#members li.me .tag.moderator');
  await alice.page.waitForSelector('#members li:has(.member-name:text-is("Bob")) .tag.moderator');
  assert.equal(await bob.page.isVisible('#topic-edit'), true, 'a moderator can edit the topic');
  assert.match((await bob.page.textContent('#announcer')) ?? '', /Alice made Bob a moderator/);

  await bob.page.reload();
  await bob.page.waitForSelector('#members li.me .tag.moderator');
  assert.equal(await bob.page.textContent('#topic'), 'Lunch plans <b>only</b>', 'the topic after a reload');
});

test('a kick with a duration: the kicked page shows until when, does not reconnect, and says so again after a reload', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('kick');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const carol = await openRoom(browser(), t, server.url, room, 'Carol');
  await waitForMembers(alice.page, 3);
  // a member has no moderation in the menu
  await bob.page.click('#members li button.member-name:text-is("Carol")');
  assert.equal(await bob.page.locator('#member-menu button:text("Remove from room")').count(), 0);
  await bob.page.keyboard.press('Escape');
  await bob.page.waitForSelector('#member-menu', { state: 'hidden' });
  assert.equal(
    await bob.page.evaluate(() => document.activeElement?.textContent),
    'Carol',
    'Escape gives the focus back to the name',
  );

  let sockets = 0;
  carol.page.on('websocket', () => sockets++);
  await carol.page.clock.install();
  await memberAction(alice.page, 'Carol', 'Remove from room…');
  await alice.page.waitForSelector('#kick-dialog[open]');
  await alice.page.check('#kick-dialog input[value="60"]');
  await alice.page.click('#kick-dialog button[value="kick"]');

  await carol.page.waitForSelector('#removed:not([hidden])');
  const text = (await carol.page.textContent('#removed-text')) ?? '';
  assert.match(text, /You were removed by Alice\. You can come back after .+\./);
  assert.equal(await carol.page.isDisabled('#rejoin'), true, 'no rejoining before the ban ends');
  assert.equal(
    await carol.page.evaluate(() => (document.querySelector('.body') as HTMLElement).inert),
    true,
    'the conversation behind the panel cannot be reached',
  );
  await alice.page.waitForSelector('#events li.system:has-text("Alice removed Carol until")');
  // Escape in the dialog, opened again for Bob, removes nobody (it does not repeat the last choice)
  await memberAction(alice.page, 'Bob', 'Remove from room…');
  await alice.page.waitForSelector('#kick-dialog[open]');
  await alice.page.keyboard.press('Escape');
  // a minute later (the page's clock), the page has not tried to come back
  await carol.page.clock.fastForward(60_000);
  await alice.send('after the kick');
  await bob.waitForMessage('after the kick');
  assert.equal(sockets, 0, 'no reconnect after a kick');
  assert.equal(await bob.page.isVisible('#removed'), false, 'Bob was not removed');
  assert.equal(await alice.page.locator('#events li.system:has-text("removed Bob")').count(), 0);
  assert.equal(await carol.page.locator('#events li.msg', { hasText: 'after the kick' }).count(), 0);

  // a reload while banned: the server refuses the handshake and the page says why, once
  sockets = 0;
  await carol.page.reload();
  await carol.page.waitForSelector('#removed:not([hidden])');
  assert.match((await carol.page.textContent('#removed-text')) ?? '', /You can come back after/);
  await carol.page.clock.fastForward(60_000);
  await alice.send('still banned');
  await bob.waitForMessage('still banned');
  assert.equal(sockets, 1, 'one refused handshake, no retry loop');
});

test('a kick that only disconnects lets the member rejoin at once', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('kick0');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  await waitForMembers(alice.page, 2);
  await memberAction(alice.page, 'Bob', 'Remove from room…');
  await alice.page.click('#kick-dialog button[value="kick"]'); // "Only disconnect" is the default
  await bob.page.waitForSelector('#removed:not([hidden])');
  assert.match((await bob.page.textContent('#removed-text')) ?? '', /You can rejoin now/);
  await bob.page.click('#rejoin');
  await bob.page.waitForSelector('#removed', { state: 'hidden' });
  await bob.send('back again');
  await alice.waitForMessage('back again');
});
