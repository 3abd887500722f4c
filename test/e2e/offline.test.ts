/**
 * The network going away, in real Chromium: the page says so as soon as the browser knows (its
 * `offline` event), not when a timeout notices, and what is written meanwhile goes out once when
 * the network is back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useChromium } from './browser.js';
import { e2eRoom, openRoom, RestartableServer } from './harness.js';

const browser = useChromium();

test('offline is shown as soon as the browser goes offline; what is written then goes out once when it is back', async (t) => {
  // pings every ten minutes: nothing but the browser's own event can show the banner in this test
  const server = await RestartableServer.start(t, { pingIntervalMs: 600_000 });
  const room = e2eRoom('offline');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const context = alice.page.context();
  await context.setOffline(true);
  await alice.page.waitForFunction(() => {
    const banner = document.getElementById('banner');
    return banner !== null && !banner.hidden && /offline/.test(banner.textContent ?? '');
  });
  assert.ok(await alice.page.evaluate(() => document.body.classList.contains('offline')));
  await alice.send('written while offline');
  assert.match((await alice.page.textContent('#pending li .status')) ?? '', /waiting for connection/);
  await context.setOffline(false);
  await bob.waitForMessage('written while offline');
  await alice.waitForMessage('written while offline');
  await alice.page.waitForFunction(() => document.getElementById('banner')?.hidden === true);
  const stored = await server.store.read(room, { limit: 50 });
  assert.equal(stored.filter((e) => e.json.includes('written while offline')).length, 1, 'stored once');
  assert.deepEqual(await bob.messages(), ['written while offline'], 'received once');
});
