/**
 * End-to-end harness: a server the test can stop and start again on the same port and data, and
 * people (each a browser context of its own, so its own uid) on room pages.
 */
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { type BuildOptions, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../helpers.js';

/** A server on a fixed port that survives stop() + start() with its data, like a restarted process. */
export class RestartableServer {
  app: FastifyInstance | null = null;
  port = 0;

  constructor(
    readonly config: Config,
    readonly options: BuildOptions = {},
  ) {}

  static async start(
    t: TestContext,
    overrides: Partial<Config> = {},
    options: BuildOptions = {},
  ): Promise<RestartableServer> {
    const server = new RestartableServer(testConfig(t, { leaveGraceMs: 3000, ...overrides }), options);
    await server.start();
    t.after(() => server.stop());
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get store() {
    if (!this.app) throw new Error('the server is stopped');
    return this.app.store;
  }

  async start(): Promise<void> {
    const app = await buildApp(this.config, { logger: false, ...this.options });
    await app.listen({ port: this.port, host: '127.0.0.1' });
    this.port = (app.server.address() as { port: number }).port;
    this.app = app;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = null;
    await app?.close();
  }
}

export interface Person {
  page: Page;
  /** Texts of the messages shown (acknowledged ones, in order). */
  messages(): Promise<string[]>;
  send(text: string): Promise<void>;
  waitForMessage(text: string): Promise<void>;
}

let rooms = 0;
export const e2eRoom = (prefix = 'e2e') =>
  `${prefix}-${process.pid}-${++rooms}-${Math.random().toString(36).slice(2, 7)}`;

/** Open the room page as a new person with a display name (no name dialog). */
export async function openRoom(
  browser: Browser,
  t: TestContext,
  base: string,
  room: string,
  name: string,
  viewport = { width: 1100, height: 760 },
): Promise<Person> {
  const context = await browser.newContext({ viewport });
  t.after(() => context.close());
  await context.addInitScript((n) => {
    if (!localStorage.getItem('roomchat.name')) localStorage.setItem('roomchat.name', n);
  }, name);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(() => {
    if (errors.length) throw new Error(`script errors on ${name}'s page: ${errors.join('; ')}`);
  });
  await page.goto(`${base}/?room=${encodeURIComponent(room)}`);
  await waitOnline(page);
  await page.waitForFunction((n) => document.querySelector('#members li.me')?.textContent?.startsWith(n), name);
  const person: Person = {
    page,
    messages: () => page.$$eval('#events li.msg .text', (els) => els.map((e) => e.textContent ?? '')),
    async send(text) {
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
    },
    async waitForMessage(text) {
      await page.waitForFunction(
        (x) => [...document.querySelectorAll('#events li.msg .text')].some((e) => e.textContent === x),
        text,
      );
    },
  };
  return person;
}

export async function waitOnline(page: Page): Promise<void> {
  await page.waitForFunction(
    () => !document.body.classList.contains('offline') && document.getElementById('banner')?.hidden,
  );
}

/** Make the page believe its tab was hidden or shown (a string: no build helpers in the page). */
export const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(
    `Object.defineProperty(document, 'hidden', { configurable: true, get() { return ${hidden}; } });
     document.dispatchEvent(new Event('visibilitychange'));`,
  );

/** Wait until the page shows `n` members online. */
export const waitForMembers = (page: Page, n: number) =>
  page.waitForFunction((x) => document.getElementById('online-count')?.textContent === String(x), n);

/** Open the member menu of `name` and choose `action`. */
export async function memberAction(page: Page, name: string, action: string): Promise<void> {
  await page.click(`#members li button.member-name:text-is("${name}")`);
  await page.click(`#member-menu button:text-is("${action}")`);
}
