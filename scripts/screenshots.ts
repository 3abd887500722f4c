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
  const bob = await person('Bob');
  const carol = await person('Carol');
  const dave = await person('Dave');
  await say(bob, 'Morning! The new landing page is up on staging.');
  await say(carol, 'Looks great. The room link button is much easier to find now.');
  await say(carol, 'One thing: on my phone the member list covered the composer.');
  await say(alice, 'Good catch, I moved it behind the "Members" button on small screens.');
  await say(alice, 'Try it again?\nIt should slide in from the right.');
  await dave.context().close();
  await say(bob, 'Shipping it after lunch then.');
  await bob.click('#members li button:text("Alice")');
  await say(bob, 'Can you review my PR before that?');
  await carol.fill('#text', 'Checking on my phone now');
  await carol.type('#text', '…');
  await alice.waitForSelector('#typing:text("Carol is typing…")');
  await shoot(alice, 'room-desktop');

  await alice.setViewportSize({ width: 360, height: 740 });
  await carol.waitForTimeout(2100); // typing goes out at most every 2 s
  await carol.type('#text', '.');
  await alice.waitForSelector('#typing:text("Carol is typing…")');
  await shoot(alice, 'room-phone');

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
