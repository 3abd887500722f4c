/**
 * Cluster test harness: real server processes on their own ports sharing Redis and PostgreSQL, a
 * private redis-server the test may stop and start, and a TCP proxy whose link to a service the
 * test may cut (failure injection without touching the shared services).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { sleep } from '../helpers.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, testPrefix } from '../services.js';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One server process. */
export class Instance {
  proc: ChildProcess | null = null;
  log = '';

  constructor(
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get ws(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn(process.execPath, ['--import', 'tsx', resolve(PROJECT_ROOT, 'src/server.ts')], {
      cwd: PROJECT_ROOT,
      // ENV_FILE empty: a developer's .env in the project does not change the cluster under test
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d) => {
      this.log += d;
    });
    proc.stderr?.on('data', (d) => {
      this.log += d;
    });
    this.proc = proc;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`instance ${this.port} exited: ${this.log}`);
        return (await fetch(`${this.http}/healthz`)).ok;
      },
      30000,
      `instance ${this.port} to be healthy`,
    );
  }

  async ready(): Promise<number> {
    return (await fetch(`${this.http}/readyz`)).status;
  }

  /** Stop the process with a signal and wait until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
    this.proc = null;
  }
}

export interface ClusterOptions {
  instances: number;
  env?: Record<string, string>;
}

/** N instances sharing the test Redis (under a prefix of their own) and PostgreSQL. */
export async function startCluster(t: TestContext, { instances, env = {} }: ClusterOptions): Promise<Instance[]> {
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-cluster-'));
  const shared = {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_PREFIX: testPrefix(),
    SQLITE_PATH: join(dir, 'unused.db'),
    LOG_LEVEL: 'warn',
    LEAVE_GRACE_MS: '300',
    PRESENCE_TTL_MS: '1000',
    PING_INTERVAL_MS: '1000',
    // every test client comes from loopback: the per-address caps are tested on their own
    MAX_CONNECTIONS_PER_IP: '100000',
    JOINS_PER_IP_PER_MIN: '100000',
    RATE_LIMIT_PER_IP_PER_SEC: '100000',
    ...env,
  };
  const list = await Promise.all(Array.from({ length: instances }, async () => new Instance(await freePort(), shared)));
  t.after(async () => {
    await Promise.all(list.map((i) => i.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });
  await Promise.all(list.map((i) => i.start()));
  return list;
}

/** A redis-server of the test's own, on a free port, that the test may stop and start again. */
export class PrivateRedis {
  proc: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(t: TestContext): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    t.after(() => redis.stop());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      () =>
        new Promise((res) => {
          const s = net.connect(this.port, '127.0.0.1', () => {
            s.end();
            res(true);
          });
          s.on('error', () => res(false));
        }),
      10000,
      'redis-server',
    );
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = null;
  }
}

/** A TCP proxy to a service; `cut()` drops every connection and refuses new ones until `restore()`. */
export class CuttableProxy {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | null = null;

  private constructor(
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  static async start(t: TestContext, target: { host: string; port: number }): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(await freePort(), target);
    await proxy.restore();
    t.after(() => proxy.cut());
    return proxy;
  }

  async restore(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}
