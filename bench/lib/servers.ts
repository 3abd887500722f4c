/**
 * Servers under test, started as processes pinned to their own core, and what /proc says about
 * them: CPU time and resident memory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Processes whose command name is one of `names` (e.g. redis-server, postgres and its backends). */
export function pidsNamed(names: readonly string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * CPU seconds used so far by the processes named `names`, counting each that appears later from
 * zero: `cpu()` before and after a window gives what those services spent in it.
 */
export function servicesCpu(names: readonly string[]): () => number {
  const start = new Map(pidsNamed(names).map((pid) => [pid, processCpuSeconds(pid)]));
  return () => pidsNamed(names).reduce((sum, pid) => sum + processCpuSeconds(pid) - (start.get(pid) ?? 0), 0);
}

export type ServerKind = 'baseline' | 'roomchat';

export interface ServerOptions {
  kind: ServerKind;
  /** CPU core to pin the server to (taskset). */
  core: number;
  /** Extra environment (roomchat: cluster URLs, limits). */
  env?: Record<string, string>;
  /** The server to run instead of this checkout's (another build of roomchat, to compare). */
  script?: string;
  /** Extra arguments to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export class ServerProcess {
  readonly #dir = mkdtempSync(join(tmpdir(), 'roomchat-bench-'));
  proc: ChildProcess | null = null;
  port = 0;
  log = '';

  constructor(readonly options: ServerOptions) {}

  get ws(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const script =
      this.options.script ??
      (this.options.kind === 'baseline'
        ? resolve(PROJECT_ROOT, 'bench/baseline/server.mjs')
        : resolve(PROJECT_ROOT, 'dist/server.js'));
    const env = {
      PATH: process.env.PATH ?? '',
      PORT: String(this.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ENV_FILE: '', // a developer's .env does not change the measured server
      SQLITE_PATH: join(this.#dir, 'chat.db'),
      // every guarantee stays on; the limits are raised so that the load is not refused
      RATE_LIMIT_PER_SEC: '1000000',
      RATE_LIMIT_BURST: '1000000',
      // every load generator connects from 127.0.0.1: one address, so its caps are raised too
      MAX_CONNECTIONS_PER_IP: '1000000',
      JOINS_PER_IP_PER_MIN: '1000000',
      RATE_LIMIT_PER_IP_PER_SEC: '1000000',
      NODE_OPTIONS: `--expose-gc --import=${resolve(PROJECT_ROOT, 'bench/lib/gc-on-signal.mjs')}`,
      ...this.options.env,
    };
    this.proc = spawn(
      'taskset',
      ['-c', String(this.options.core), process.execPath, ...(this.options.nodeArgs ?? []), script],
      {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc.stdout?.on('data', (d) => {
      this.log += d;
    });
    this.proc.stderr?.on('data', (d) => {
      this.log += d;
    });
    const end = Date.now() + 30000;
    while (Date.now() < end) {
      if (this.proc.exitCode !== null) throw new Error(`${this.options.kind} exited: ${this.log}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.options.kind} did not start: ${this.log}`);
  }

  /** CPU seconds (user + system) the server has used so far. */
  cpuSeconds(): number {
    return processCpuSeconds(this.proc?.pid ?? 0);
  }

  /** A counter or gauge of roomchat's /metrics (0 when absent, as for the baseline). */
  async metric(name: string): Promise<number> {
    const text = await fetch(`http://127.0.0.1:${this.port}/metrics`).then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : 0;
  }

  /** Run a full garbage collection in the server (the hook of gc-on-signal.mjs) and let it settle. */
  async collectGarbage(): Promise<void> {
    this.proc?.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
  }

  /** Resident memory in KiB. */
  rssKiB(): number {
    const status = readFileSync(`/proc/${this.proc?.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
