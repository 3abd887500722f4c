/**
 * Screenshots of the landing page and a room, at desktop and 360 px phone width, light and dark,
 * into docs/screenshots/. Starts its own server on a loopback port with a throwaway database and
 * stages a small conversation with real browsers.  Run: npm run screenshots
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { launchChromium } from '../test/e2e/browser.js';

const OUT = resolve(PROJECT_ROOT, 'docs/screenshots');
const dir = mkdtempSync(join(tmpdir(), 'roomchat-shots-'));
const app = await buildApp(
  {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    sqlitePath: join(dir, 'chat.db'),
    sqliteSync: 'normal',
    serverSecret: 'screenshots-secret-0000',
    leaveGraceMs: 200,
  },
  { logger: false },
);
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const browser = await launchChromium();
const room = 'design-review';

async function person(name: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.addInitScript(
    ([n, r]) => {
      localStorage.setItem('roomchat.name', n as string);
      localStorage.setItem(
        'roomchat.recent',
        JSON.stringify([
          { room: r, at: Date.now() - 60_000 },
          { room: 'team-lunch', at: Date.now() - 86_400_000 },
          { room: 'room-k3v7q2m9x4b8n6c5', at: Date.now() - 3 * 86_400_000 },
        ]),
      );
    },
    [name, room],
  );
  const page = await context.newPage();
  await page.goto(`${base}/?room=${room}`);
  await page.waitForSelector('#members li.me');
  return page;
}

async function say(page: Page, text: string) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#pending li').length === 0);
}

async function shoot(page: Page, name: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(OUT, `${name}-${scheme}.png`) });
  }
}

try {
  mkdirSync(OUT, { recursive: true });
  const alice = await person('Alice');
  // Alice opened the room first: she owns it, sets its topic and makes Bob a moderator
  await alice.click('#topic-edit');
  await alice.fill('#topic-input', 'Design review of the new landing page · Fridays at 10');
  await alice.click('#topic-dialog button[value="save"]');
  const bob = await person('Bob');
  const carol = await person('Carol');
  const dave = await person('Dave');
  const erin = await person('Maximilian Castellanos-Whitford');
  await alice.click('#members li button:text("Bob")');
  await alice.click('#member-menu button:text("Make moderator")');
  await say(bob, 'Morning! The new landing page is up on **staging**: https://staging.example.com/');
  await say(carol, 'Looks great. The room link button is much easier to find now.');
  await say(carol, 'One thing: on my phone the member list covered the composer.');
  // Alice answers Carol's message
  const carolsLast = alice.locator('#events li.msg', { hasText: 'member list covered' });
  await carolsLast.hover();
  await carolsLast.getByRole('button', { name: 'Reply', exact: true }).click();
  await say(
    alice,
    'Good catch, I moved it behind the `Members` button on small screens:\n- it slides in from the right\n- a tap beside it closes it',
  );
  const first = bob.locator('#events li.msg', { hasText: 'staging' });
  for (const p of [carol, alice]) {
    const item = p.locator('#events li.msg', { hasText: 'staging' });
    await item.hover();
    await item.getByRole('button', { name: 'React with 🎉', exact: true }).click();
  }
  await first.waitFor();
  await dave.context().close();
  await erin.context().close();
  await bob.fill('#text', '@Car');
  await bob.keyboard.press('Enter');
  await bob.type('#text', 'can you check it on your phone before lunch?');
  await bob.press('#text', 'Enter');
  await bob.waitForFunction(() => document.querySelectorAll('#pending li').length === 0);
  await bob.click('#members li button:text("Alice")');
  await bob.click('#member-menu button:text("Send a private message")');
  await say(bob, 'Can you review my PR before that?');
  await carol.fill('#text', 'Checking on my phone now');
  await carol.type('#text', '…');
  await alice.waitForSelector('#typing:text("Carol is typing…")');
  await alice.mouse.move(0, 0);
  await shoot(alice, 'room-desktop');

  await carol.setViewportSize({ width: 360, height: 740 });
  await carol.mouse.move(0, 0);
  await carol.waitForTimeout(300);
  await shoot(carol, 'room-phone');
  await carol.click('#members-toggle');
  await carol.waitForTimeout(300);
  await shoot(carol, 'room-phone-members');

  const landing = await alice.context().newPage();
  await landing.setViewportSize({ width: 360, height: 740 });
  await landing.goto(base);
  await landing.waitForSelector('#recent-list li');
  await shoot(landing, 'landing-phone');
  await landing.setViewportSize({ width: 1280, height: 800 });
  await shoot(landing, 'landing-desktop');
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
