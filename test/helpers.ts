/**
 * Test helpers: a Config for tests, an app built without a port (`build`) or listening on a free
 * loopback port (`listen`), the build the browser needs (`buildIfStale`), and a WebSocket client
 * that queues frames for `next()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { type BuildOptions, buildApp } from '../src/app.js';
import type { HistoryStore } from '../src/chat/store/history-store.js';
import { type Config, loadConfig } from '../src/config.js';
import { PROJECT_ROOT } from '../src/paths.js';

/** A fresh temporary folder, removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The defaults of the config schema, with what tests need instead (a free port, a temporary store, short waits). */
export function testConfig(t: TestContext, overrides: Partial<Config> = {}): Config {
  const dir = tempDir(t);
  return {
    ...loadConfig({}),
    filesDir: join(dir, 'files'),
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    sqlitePath: join(dir, 'chat.db'),
    serverSecret: 'test-secret-0123456789',
    allowedOrigins: ['http://allowed.example'],
    leaveGraceMs: 200,
    presenceTtlMs: 1000,
    shutdownTimeoutMs: 5000,
    // tests open many connections and joins from 127.0.0.1; test/address-limits.test.ts sets its own
    maxConnectionsPerIp: 100_000,
    joinsPerIpPerMin: 100_000,
    rateLimitPerIpPerSec: 100_000,
    ...overrides,
  };
}

/**
 * Run the build when the sources changed since the last one (as `npm start` does): the pages load
 * /assets/js/rules.js, which only the build makes (from src/shared/).
 */
export function buildIfStale(): void {
  execFileSync(process.execPath, [resolve(PROJECT_ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
}

/** The app, not listening; closed when the test ends. */
export async function build(t: TestContext, config = testConfig(t), options: BuildOptions = {}) {
  const app = await buildApp(config, { logger: false, ...options });
  t.after(() => app.close());
  await app.ready();
  return app;
}

/** The app listening on a free loopback port; returns its ws:// and http:// bases. */
export async function listen(t: TestContext, config = testConfig(t), options: BuildOptions = {}) {
  const app = await build(t, config, options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { app, http: `http://127.0.0.1:${address.port}`, ws: `ws://127.0.0.1:${address.port}` };
}

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever JSON the server sent
export type Frame = Record<string, any>;

let uidCounter = 0;
/** A valid, unique uid. */
export const newUid = () => `uid${process.pid}x${++uidCounter}x${Math.random().toString(36).slice(2, 10)}`;
/** A unique, valid room name. */
export const newRoom = (prefix = 'r') => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** A WebSocket client that keeps every frame in order and lets tests wait for one. */
export class Client {
  readonly frames: Frame[] = [];
  readonly #queue: Frame[] = [];
  readonly #waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  welcome!: Frame;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.frames.push(frame);
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(frame);
      else this.#queue.push(frame);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  get id(): string {
    return this.welcome.you.id;
  }

  /** Events (frames with a seq) received after the welcome. */
  get events(): Frame[] {
    return this.frames.filter((f) => f.type !== 'welcome' && f.seq !== undefined);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame of a type (or matching a predicate), within `ms`. */
  next(match: string | ((f: Frame) => boolean), ms = 3000): Promise<Frame> {
    const pred = typeof match === 'string' ? (f: Frame) => f.type === match : match;
    const i = this.#queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const waiter = { match: pred, resolve };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${typeof match === 'string' ? match : 'matching'} frame within ${ms} ms`));
      }, ms);
      waiter.resolve = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Send a message and wait for this member's own copy (or an error) with its clientMsgId. */
  async say(text: string, clientMsgId = `c-${Math.random().toString(36).slice(2)}`): Promise<Frame> {
    this.send({ type: 'message', text, clientMsgId });
    return this.next(
      (f) => f.clientMsgId === clientMsgId && (f.type === 'error' || (f.type === 'message' && f.from.id === this.id)),
    );
  }

  /** Frames not consumed by next(). */
  get unconsumed(): Frame[] {
    return [...this.#queue];
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

export interface ConnectOptions {
  uid?: string;
  name?: string;
  since?: number;
  headers?: Record<string, string>;
  autoPong?: boolean;
  /** The loopback address to connect from (127.0.0.2, …: another client address). */
  localAddress?: string;
}

/** Open a WebSocket to a listening app and wait for its welcome. */
export async function connect(base: string, room: string, opts: ConnectOptions = {}): Promise<Client> {
  const params = new URLSearchParams({ room });
  if (opts.uid) params.set('uid', opts.uid);
  if (opts.name) params.set('name', opts.name);
  if (opts.since !== undefined) params.set('since', String(opts.since));
  const ws = new WebSocket(`${base}/ws?${params}`, {
    headers: opts.headers,
    autoPong: opts.autoPong ?? true,
    localAddress: opts.localAddress,
  });
  const client = new Client(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  client.welcome = await client.next('welcome');
  return client;
}

/** Handshake status of a WebSocket request: 101 when accepted, else the HTTP status. */
export function handshakeStatus(
  url: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, localAddress });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (!String(err).includes('Unexpected server response')) reject(err);
    });
  });
}

/** Append `count` messages ("1", "2", …) from one member straight to a store. */
export async function seedMessages(store: HistoryStore, room: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const draft = {
      type: 'message' as const,
      room,
      id: `m${i}`,
      from: { id: 'x', name: 'X' },
      text: `${i}`,
      ts: new Date().toISOString(),
    };
    await store.append({ draft, memberId: 'x' });
  }
}

/** GET a JSON document. */
export async function getJson(url: string): Promise<Frame> {
  const res = await fetch(url);
  return (await res.json()) as Frame;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until a condition holds (polled), at most `ms`. */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await sleep(5);
  }
}
