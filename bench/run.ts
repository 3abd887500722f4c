/**
 * The benchmark: roomchat against the naive baseline (bench/baseline/) on the same machine in one
 * run, each server pinned to core 0 and this load generator to core 1. Prints a markdown table and
 * writes it with the raw figures to bench/results/.
 *
 *   npm run bench                       all scenarios, medians of 3 runs
 *   npm run bench -- --runs 1 fanout    one scenario, one run
 *   npm run bench -- --quick            a small, fast pass (used by the tests)
 *
 * Scenarios: fanout, slow-readers, rooms, growth, idle, connections, cluster, history, search.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { type Counters, LoadGenerator } from './lib/loadgen.js';
import { scratchDatabase } from './lib/scratch-database.js';
import { type ServerKind, ServerProcess, servicesCpu } from './lib/servers.js';
import { searchBench } from './search.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runsArg = argv.indexOf('--runs');
const RUNS = quick ? 1 : runsArg >= 0 ? Number(argv[runsArg + 1]) : 3;
const dbArg = argv.indexOf('--database');
/** Where the search scenario makes its scratch PostgreSQL databases (`--database none` to skip). */
const DATABASE = dbArg >= 0 ? (argv[dbArg + 1] as string) : 'postgres://postgres@127.0.0.1:5432/test';
const named = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs' && argv[i - 1] !== '--database');
const ALL = ['fanout', 'slow-readers', 'rooms', 'growth', 'idle', 'connections', 'cluster', 'history', 'search'];
const SCENARIOS = named.length ? named : ALL;
const KINDS: ServerKind[] = ['baseline', 'roomchat'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// the load generator on core 1, the servers on core 0: each side's cost is its own
try {
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  console.warn('taskset failed: the load generator is not pinned');
}
// 50,000 connections need more descriptors than a login's default, here and in the servers
// (they inherit the limit): raised to the hard limit, which only a privileged process can lift
const openFilesLimit = (() => {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const [soft, hard] = (/Max open files\s+(\S+)\s+(\S+)/.exec(limits) ?? []).slice(1);
  const top = hard === 'unlimited' ? 1_048_576 : Number(hard);
  if (Number(soft) < top) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${top}:${top}`], { stdio: 'ignore' });
    } catch {
      return Number(soft);
    }
  }
  return top;
})();

interface StepResult {
  offered: number;
  achieved: number;
  p50: number;
  p99: number;
  serverCpuPct: number;
  loadgenCpuPct: number;
  usPerDelivery: number;
  /** roomchat: share of the window's frames written behind unsent bytes (slow readers), in %. */
  queuedPct: number;
}

const QUEUED = 'roomchat_deliveries_queued_total';
const SENT = 'roomchat_deliveries_total{outcome="sent"}';

/** Offer a load for a measured window; CPU of both sides over the same window. */
async function measure(
  server: ServerProcess,
  lg: LoadGenerator,
  senders: LoadGenerator['members'],
  msgsPerSec: number,
  ms: number,
  offeredDeliveries: number,
): Promise<StepResult> {
  await lg.offer(senders, msgsPerSec, Math.min(1000, ms / 4)); // warm-up
  const [queued0, sent0] = [await server.metric(QUEUED), await server.metric(SENT)];
  const cpu0 = server.cpuSeconds();
  const lg0 = process.cpuUsage();
  const t0 = performance.now();
  lg.record();
  await lg.offer(senders, msgsPerSec, ms);
  await sleep(100); // the last deliveries of the window
  const seconds = (performance.now() - t0) / 1000;
  const stats = lg.stopRecording();
  const serverCpu = server.cpuSeconds() - cpu0;
  const lgCpu = process.cpuUsage(lg0);
  const [queued, sent] = [(await server.metric(QUEUED)) - queued0, (await server.metric(SENT)) - sent0];
  return {
    queuedPct: sent > 0 ? (100 * queued) / sent : 0,
    offered: offeredDeliveries,
    achieved: Math.round(stats.deliveries / (ms / 1000)),
    p50: stats.p50,
    p99: stats.p99,
    serverCpuPct: (100 * serverCpu) / seconds,
    loadgenCpuPct: (100 * (lgCpu.user + lgCpu.system)) / 1e6 / seconds,
    usPerDelivery: (serverCpu * 1e6) / Math.max(1, stats.deliveries),
  };
}

async function withServer<T>(kind: ServerKind, fn: (s: ServerProcess) => Promise<T>): Promise<T> {
  const server = new ServerProcess({ kind, core: 0 });
  await server.start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Slow readers: each receiver stops reading for this long of every period (ms). */
const SLOW_PAUSE_MS = 50;
const SLOW_EVERY_MS = 200;

/**
 * 1 room × 1000 members, one sender, offered deliveries/s in steps until p99 > 250 ms or a loss.
 * `slow`: the receivers read in bursts (`LoadGenerator.readInBursts`), so the sockets back up.
 */
async function fanout(kind: ServerKind, slow = false) {
  const members = quick ? 100 : 1000;
  const steps = quick
    ? [5_000, 10_000]
    : slow
      ? [20_000, 50_000, 100_000]
      : [20_000, 50_000, 100_000, 150_000, 200_000];
  const window = quick ? 1000 : 4000;
  return withServer(kind, async (server) => {
    const lg = new LoadGenerator(server.ws, 1, members);
    await lg.connect();
    const stopBursts = slow ? lg.readInBursts(SLOW_EVERY_MS, SLOW_PAUSE_MS) : () => {};
    const out: StepResult[] = [];
    for (const offered of steps) {
      const step = await measure(
        server,
        lg,
        [lg.members[0] as LoadGenerator['members'][0]],
        offered / members,
        window,
        offered,
      );
      out.push(step);
      const c = lg.counters;
      if (step.p99 > 250 || c.outOfOrder + c.duplicated > 0) break;
    }
    stopBursts();
    const counters = await lg.settle();
    await lg.close();
    return { steps: out, counters };
  });
}

/** 200 rooms × 10 members, every member sending 1/s, then 5/s. */
async function rooms(kind: ServerKind) {
  const [nRooms, perRoom] = quick ? [20, 5] : [200, 10];
  const window = quick ? 1000 : 4000;
  return withServer(kind, async (server) => {
    const lg = new LoadGenerator(server.ws, nRooms, perRoom);
    await lg.connect();
    const out: StepResult[] = [];
    for (const perMember of [1, 5]) {
      const msgs = perMember * nRooms * perRoom;
      out.push(await measure(server, lg, lg.members, msgs, window, msgs * perRoom));
    }
    const counters = await lg.settle();
    await lg.close();
    return { steps: out, counters };
  });
}

/** Room sizes of the `growth` scenario, and the deliveries/s offered at each. */
const GROWTH_SIZES = quick ? [10, 50] : [10, 100, 1000, 5000];
const GROWTH_OFFERED = quick ? 2_000 : 20_000;
/** A step counts only while the load generator has headroom: above this share of its core it may be what limits. */
const LOADGEN_QUALIFIES_PCT = 70;

/**
 * How cost grows with the room: one sender in one room of 10, 100, 1000 and 5000 members, the
 * same deliveries/s offered at each size (fewer messages in larger rooms).
 */
async function growth(kind: ServerKind) {
  const window = quick ? 1000 : 4000;
  const out: Array<StepResult & { size: number }> = [];
  let counters: Counters | null = null;
  for (const size of GROWTH_SIZES) {
    const step = await withServer(kind, async (server) => {
      const lg = new LoadGenerator(server.ws, 1, size);
      await lg.connect(200);
      const sender = [lg.members[0] as LoadGenerator['members'][0]];
      const result = await measure(server, lg, sender, GROWTH_OFFERED / size, window, GROWTH_OFFERED);
      const c = await lg.settle();
      await lg.close();
      const sum: Counters = counters ?? { delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 };
      counters = {
        delivered: sum.delivered + c.delivered,
        lost: sum.lost + c.lost,
        duplicated: sum.duplicated + c.duplicated,
        outOfOrder: sum.outOfOrder + c.outOfOrder,
        leaked: sum.leaked + c.leaked,
      };
      return result;
    });
    out.push({ ...step, size });
  }
  return { steps: out, counters: counters ?? { delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, leaked: 0 } };
}

/** How long after the last join idle memory is read "as top shows it" (before any forced GC). */
const IDLE_SETTLE_MS = quick ? 2000 : 30_000;

/**
 * Resident memory per connection, read twice: `IDLE_SETTLE_MS` after the last join, as an operator
 * sees it, and then after a forced full garbage collection (what the connections hold).
 */
async function residentPerConnection(server: ServerProcess, connect: () => Promise<number>) {
  const warm = new LoadGenerator(server.ws, 1, 10, 'warm');
  await warm.connect();
  await sleep(1000);
  await server.collectGarbage();
  const before = server.rssKiB();
  const connections = await connect();
  await sleep(IDLE_SETTLE_MS);
  const asSeen = server.rssKiB();
  await server.collectGarbage();
  const collected = server.rssKiB();
  await warm.close();
  return {
    connections,
    kibPerConnection: (collected - before) / connections,
    kibPerConnectionNoGc: (asSeen - before) / connections,
  };
}

/** 10 000 idle connections over 100 rooms: resident memory per connection. */
async function idle(kind: ServerKind) {
  const [nRooms, perRoom] = quick ? [10, 50] : [100, 100];
  return withServer(kind, async (server) => {
    const lg = new LoadGenerator(server.ws, nRooms, perRoom);
    const result = await residentPerConnection(server, async () => {
      await lg.connect(200);
      return nRooms * perRoom;
    });
    await lg.close();
    return result;
  });
}

/** Source addresses of the `connections` scenario: 8 × the ephemeral port range. */
const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

/**
 * Connections the `connections` scenario opens: 50,000, or as many as one process may hold open
 * here (each side needs a descriptor per connection; a margin for the rest), in thousands.
 */
const CONNECTIONS = Math.min(50_000, Math.floor((openFilesLimit - 1000) / 1000) * 1000);

/**
 * 50,000 connections on one server (`CONNECTIONS`): first a storm of 10,000 joins into 100 rooms,
 * all at once (at most 1000 handshakes in flight), timed to the last welcome; then the rest into
 * rooms of 100; resident memory per connection as in `idle`. Connections come from 127.0.0.2–9
 * so that the ports suffice; the server's per-address caps are raised (`ServerProcess`).
 */
async function connections(kind: ServerKind) {
  const [stormRooms, restRooms, perRoom] = quick ? [5, 10, 100] : [100, CONNECTIONS / 100 - 100, 100];
  return withServer(kind, async (server) => {
    const storm = new LoadGenerator(server.ws, stormRooms, perRoom, `storm-${Date.now().toString(36)}`);
    const rest = new LoadGenerator(server.ws, restRooms, perRoom);
    storm.localAddresses = SOURCE_ADDRESSES;
    rest.localAddresses = SOURCE_ADDRESSES;
    let stormSeconds = 0;
    let stormCpuUs = 0;
    const memory = await residentPerConnection(server, async () => {
      const cpu0 = server.cpuSeconds();
      const t0 = performance.now();
      await storm.storm(1000);
      stormSeconds = (performance.now() - t0) / 1000;
      stormCpuUs = ((server.cpuSeconds() - cpu0) * 1e6) / storm.members.length;
      await rest.connect(500);
      return storm.members.length + rest.members.length;
    });
    const waits = [...storm.welcomeMs].sort((a, b) => a - b);
    const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] as number;
    await storm.close();
    await rest.close();
    return {
      ...memory,
      storm: {
        joins: storm.members.length,
        seconds: stormSeconds,
        welcomeP50: at(0.5),
        welcomeP99: at(0.99),
        cpuUsPerJoin: stormCpuUs,
      },
    };
  });
}

/** What the cluster scenario counts as the deployment's, besides the instances. */
const SERVICES = ['redis-server', 'postgres'];

/**
 * The same fan-out and rooms loads on roomchat in cluster mode (Redis + PostgreSQL), with one
 * instance and then two (members alternate between them): total CPU per delivery of everything
 * the deployment runs, instances + Redis + PostgreSQL, from /proc. Both instances share core 0
 * (this machine has two cores): CPU accounting, not throughput, is what it can show.
 */
async function cluster() {
  const database = await scratchDatabase(DATABASE, `roomchat_bench_cluster_${process.pid}`);
  const loads = [
    { name: 'fan-out 1 × 1000', rooms: 1, perRoom: quick ? 100 : 1000, deliveries: quick ? 5_000 : 50_000 },
    { name: 'rooms 200 × 10', rooms: quick ? 20 : 200, perRoom: quick ? 5 : 10, deliveries: quick ? 1_000 : 5_000 },
  ];
  const window = quick ? 1000 : 4000;
  const warmUp = quick ? 250 : 10_000;
  const out: Array<{
    load: string;
    instances: number;
    usPerDelivery: number;
    instancesUs: number;
    servicesUs: number;
    p99: number;
    counters: Counters;
  }> = [];
  try {
    for (const load of loads) {
      for (const instances of [1, 2]) {
        const env = {
          REDIS_URL: 'redis://127.0.0.1:6379',
          DATABASE_URL: database.url,
          REDIS_PREFIX: `roomchat-bench-${process.pid}-${Date.now().toString(36)}:`,
        };
        const servers = Array.from({ length: instances }, () => new ServerProcess({ kind: 'roomchat', core: 0, env }));
        await Promise.all(servers.map((x) => x.start()));
        try {
          const lg = new LoadGenerator(
            servers.map((x) => x.ws),
            load.rooms,
            load.perRoom,
          );
          await lg.connect(200);
          const senders = load.rooms === 1 ? [lg.members[0] as LoadGenerator['members'][0]] : lg.members;
          const perSecond = load.deliveries / load.perRoom;
          // warm-up: at these rates (50 messages/s in the fan-out) an instance's hot code runs too
          // rarely in one second to be optimized, and two instances take each twice as long
          await lg.offer(senders, perSecond, warmUp);
          const instanceCpu = () => servers.reduce((sum, x) => sum + x.cpuSeconds(), 0);
          const services = servicesCpu(SERVICES);
          const i0 = instanceCpu();
          lg.record();
          await lg.offer(senders, perSecond, window);
          await sleep(100);
          const stats = lg.stopRecording();
          const [instancesCpu, servicesCpuSeconds] = [instanceCpu() - i0, services()];
          const counters = await lg.settle();
          await lg.close();
          const per = (x: number) => (x * 1e6) / Math.max(1, stats.deliveries);
          out.push({
            load: load.name,
            instances,
            usPerDelivery: per(instancesCpu + servicesCpuSeconds),
            instancesUs: per(instancesCpu),
            servicesUs: per(servicesCpuSeconds),
            p99: stats.p99,
            counters,
          });
        } finally {
          await Promise.all(servers.map((x) => x.stop()));
        }
      }
    }
  } finally {
    await database.drop();
  }
  return out;
}

/** The store alone: appends one at a time and in bursts; and a resume of 1000 missed events. */
async function history() {
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-bench-store-'));
  const store = new SqliteStore({ path: join(dir, 'chat.db') }); // as the server runs it: a file, synced
  const n = quick ? 2000 : 20000;
  const draft = (i: number) => ({
    draft: {
      type: 'message' as const,
      room: `h${i % 10}`,
      id: `m${i}`,
      from: { id: 'a', name: 'A' },
      text: `text ${i}`,
      ts: new Date().toISOString(),
    },
    memberId: 'a',
  });
  let t = performance.now();
  for (let i = 0; i < n; i++) await store.append(draft(i));
  const sequential = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i += 100)
    await Promise.all(Array.from({ length: 100 }, (_, k) => store.append(draft(n + i + k))));
  const burst = n / ((performance.now() - t) / 1000);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const resume = await withServer('roomchat', async (server) => {
    const lg = new LoadGenerator(server.ws, 1, 2);
    await lg.connect();
    await lg.offer([lg.members[0] as LoadGenerator['members'][0]], 2000, 600); // about 1200 events
    await lg.settle();
    const times: number[] = [];
    for (let i = 0; i < (quick ? 3 : 20); i++) {
      const t0 = performance.now();
      const ws = new (await import('ws')).default(`${server.ws}/ws?room=${lg.roomPrefix}-0&since=0`);
      await new Promise((r) => ws.once('message', r));
      times.push(performance.now() - t0);
      ws.terminate();
    }
    await lg.close();
    return median(times);
  });
  return { appendsPerSecSequential: sequential, appendsPerSecBurst: burst, resume1000Ms: resume };
}

// ---------------------------------------------------------------- run and report

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`;
const results: Record<string, unknown> = { machine, date: new Date().toISOString(), runs: RUNS };
const lines: string[] = [];
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ratio = (ours: number, base: number) => (base > 0 ? `${fmt(ours / base, 2)}×` : '–');
const countersLine = (c: Counters) =>
  `lost ${c.lost}, duplicated ${c.duplicated}, out of order ${c.outOfOrder}, leaked ${c.leaked}`;
let correctnessOk = true;
const checkCounters = (c: Counters) => {
  if (c.lost + c.duplicated + c.outOfOrder + c.leaked > 0) correctnessOk = false;
};

async function loadScenario(name: string, fn: (kind: ServerKind) => ReturnType<typeof fanout>) {
  const per: Record<ServerKind, Array<{ steps: StepResult[]; counters: Counters }>> = { baseline: [], roomchat: [] };
  for (let r = 0; r < RUNS; r++) for (const kind of KINDS) per[kind].push(await fn(kind));
  // a server that stopped early (p99 over 250 ms) shows dashes for the steps it did not reach
  const stepCount = Math.max(...KINDS.flatMap((k) => per[k].map((x) => x.steps.length)));
  // the median over the runs that reached step i (a run stops at its first step with p99 > 250 ms)
  const reached = (kind: ServerKind, i: number) => per[kind].filter((x) => x.steps[i] !== undefined);
  const med = (kind: ServerKind, i: number, key: keyof StepResult) =>
    median(reached(kind, i).map((x) => x.steps[i]?.[key] as number));
  lines.push(
    `### ${name}`,
    '',
    '| offered deliveries/s | server | achieved/s | p50 ms | p99 ms | server CPU | load gen CPU | server µs/delivery | vs baseline | frames queued |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (let i = 0; i < stepCount; i++) {
    for (const kind of KINDS) {
      const runs = reached(kind, i).length;
      if (runs * 2 <= RUNS) {
        const offered = med(KINDS.find((k) => reached(k, i).length > 0) as ServerKind, i, 'offered');
        lines.push(
          `| ${offered} | ${kind} | stopped before: p99 over 250 ms in ${RUNS - runs} of ${RUNS} runs | | | | | | | |`,
        );
        continue;
      }
      const us = med(kind, i, 'usPerDelivery');
      const base = reached('baseline', i).length * 2 > RUNS ? med('baseline', i, 'usPerDelivery') : Number.NaN;
      const cells = [
        med(kind, i, 'offered'),
        runs < RUNS ? `${kind} (${runs} of ${RUNS} runs)` : kind,
        fmt(med(kind, i, 'achieved'), 0),
        fmt(med(kind, i, 'p50'), 2),
        fmt(med(kind, i, 'p99'), 2),
        `${fmt(med(kind, i, 'serverCpuPct'), 0)} %`,
        `${fmt(med(kind, i, 'loadgenCpuPct'), 0)} %${med(kind, i, 'loadgenCpuPct') > LOADGEN_QUALIFIES_PCT ? ' (does not qualify)' : ''}`,
        fmt(us, 2),
        kind === 'roomchat' ? ratio(us, base) : '1×',
        kind === 'roomchat' ? `${fmt(med(kind, i, 'queuedPct'), 1)} %` : '–',
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  for (const kind of KINDS) {
    for (const run of per[kind]) checkCounters(run.counters);
    lines.push(`- ${kind}: ${per[kind].map((x) => countersLine(x.counters)).join('; ')}`);
  }
  lines.push(
    `- a step qualifies while the load generator stays under ${LOADGEN_QUALIFIES_PCT} % of its core; "frames queued": roomchat's frames written behind bytes a socket had not yet sent`,
    '',
  );
  results[name] = per;
}

for (const scenario of SCENARIOS) {
  console.error(`# ${scenario}…`);
  if (scenario === 'fanout') await loadScenario('fanout', (kind) => fanout(kind));
  else if (scenario === 'slow-readers')
    await loadScenario(
      `slow-readers: fan-out whose receivers stop reading ${SLOW_PAUSE_MS} ms of every ${SLOW_EVERY_MS} ms`,
      (kind) => fanout(kind, true),
    );
  else if (scenario === 'rooms') await loadScenario('rooms', rooms);
  else if (scenario === 'growth') {
    const per: Record<ServerKind, Array<Awaited<ReturnType<typeof growth>>>> = { baseline: [], roomchat: [] };
    for (let r = 0; r < RUNS; r++) for (const kind of KINDS) per[kind].push(await growth(kind));
    const med = (kind: ServerKind, i: number, key: keyof StepResult) =>
      median(per[kind].map((x) => x.steps[i]?.[key] as number));
    lines.push(
      `### growth: one sender, ${GROWTH_OFFERED.toLocaleString('en')} deliveries/s offered, by room size`,
      '',
      '| members | baseline µs/delivery | roomchat µs/delivery | vs baseline | roomchat p99 ms | load gen CPU (baseline / roomchat) |',
      '|---|---|---|---|---|---|',
    );
    GROWTH_SIZES.forEach((size, i) => {
      const [b, o] = [med('baseline', i, 'usPerDelivery'), med('roomchat', i, 'usPerDelivery')];
      const lgb = med('baseline', i, 'loadgenCpuPct');
      const lgo = med('roomchat', i, 'loadgenCpuPct');
      const busy = Math.max(lgb, lgo) > LOADGEN_QUALIFIES_PCT ? ' (load generator over 70 %: does not qualify)' : '';
      lines.push(
        `| ${size} | ${fmt(b, 2)} | ${fmt(o, 2)} | ${ratio(o, b)} | ${fmt(med('roomchat', i, 'p99'), 2)} | ${fmt(lgb, 0)} % / ${fmt(lgo, 0)} %${busy} |`,
      );
    });
    lines.push('');
    for (const kind of KINDS) {
      for (const run of per[kind]) checkCounters(run.counters);
      lines.push(`- ${kind}: ${per[kind].map((x) => countersLine(x.counters)).join('; ')}`);
    }
    lines.push('');
    results.growth = per;
  } else if (scenario === 'idle') {
    const per: Record<ServerKind, Array<Awaited<ReturnType<typeof idle>>>> = { baseline: [], roomchat: [] };
    for (let r = 0; r < RUNS; r++) for (const kind of KINDS) per[kind].push(await idle(kind));
    const med = (kind: ServerKind, key: 'kibPerConnection' | 'kibPerConnectionNoGc') =>
      median(per[kind].map((x) => x[key]));
    lines.push(
      `### idle: ${per.roomchat[0]?.connections ?? 0} connections over 100 rooms, RSS KiB per connection`,
      '',
      `| server | ${IDLE_SETTLE_MS / 1000} s after the last join (as top shows it) | vs baseline | after a forced full GC | vs baseline |`,
      '|---|---|---|---|---|',
    );
    for (const kind of KINDS) {
      const [seen, gc] = [med(kind, 'kibPerConnectionNoGc'), med(kind, 'kibPerConnection')];
      const [bSeen, bGc] = [med('baseline', 'kibPerConnectionNoGc'), med('baseline', 'kibPerConnection')];
      lines.push(`| ${kind} | ${fmt(seen, 2)} | ${ratio(seen, bSeen)} | ${fmt(gc, 2)} | ${ratio(gc, bGc)} |`);
    }
    lines.push('');
    results.idle = per;
  } else if (scenario === 'connections') {
    const per: Record<ServerKind, Array<Awaited<ReturnType<typeof connections>>>> = { baseline: [], roomchat: [] };
    for (let r = 0; r < RUNS; r++) for (const kind of KINDS) per[kind].push(await connections(kind));
    const med = (kind: ServerKind, pick: (x: Awaited<ReturnType<typeof connections>>) => number) =>
      median(per[kind].map(pick));
    lines.push(
      `### connections: ${(per.roomchat[0]?.connections ?? 0).toLocaleString('en')} on one server, the first ${(per.roomchat[0]?.storm.joins ?? 0).toLocaleString('en')} as a storm into 100 rooms`,
      '',
      '| server | storm: seconds to the last welcome | welcome p50 ms | welcome p99 ms | server CPU µs per join | RSS KiB/connection, 30 s after | after a full GC |',
      '|---|---|---|---|---|---|---|',
    );
    for (const kind of KINDS) {
      lines.push(
        `| ${kind} | ${fmt(
          med(kind, (x) => x.storm.seconds),
          2,
        )} | ${fmt(
          med(kind, (x) => x.storm.welcomeP50),
          1,
        )} | ${fmt(
          med(kind, (x) => x.storm.welcomeP99),
          1,
        )} | ${fmt(
          med(kind, (x) => x.storm.cpuUsPerJoin),
          0,
        )} | ${fmt(
          med(kind, (x) => x.kibPerConnectionNoGc),
          2,
        )} | ${fmt(
          med(kind, (x) => x.kibPerConnection),
          2,
        )} |`,
      );
    }
    lines.push(
      '',
      `- open files allowed per process here: ${openFilesLimit}${CONNECTIONS < 50_000 ? ' (a hard limit this machine does not let a process raise): fewer than 50,000 connections' : ''}`,
      `- connections from ${SOURCE_ADDRESSES[0]}–${SOURCE_ADDRESSES.at(-1)}; the per-address caps (connections, joins, messages) are raised for the benchmark. The baseline sends a bare welcome and announces no join; roomchat's welcome holds the room's members and history, and each join is announced to the room.`,
      '',
    );
    results.connections = per;
  } else if (scenario === 'cluster') {
    const runs: Array<Awaited<ReturnType<typeof cluster>>> = [];
    for (let r = 0; r < RUNS; r++) runs.push(await cluster());
    const first = runs[0] ?? [];
    lines.push(
      '### cluster: roomchat on Redis + PostgreSQL, 1 instance and 2, total CPU per delivery of the deployment',
      '',
      '| load | instances | total µs/delivery | instances | Redis + PostgreSQL | p99 ms | 2 vs 1 |',
      '|---|---|---|---|---|---|---|',
    );
    first.forEach((row, i) => {
      const med = (key: 'usPerDelivery' | 'instancesUs' | 'servicesUs' | 'p99') =>
        median(runs.map((r) => r[i]?.[key] as number));
      const one = median(
        runs.map((r) => r.find((x) => x.load === row.load && x.instances === 1)?.usPerDelivery as number),
      );
      for (const run of runs) checkCounters(run[i]?.counters as Counters);
      lines.push(
        `| ${row.load} | ${row.instances} | ${fmt(med('usPerDelivery'), 2)} | ${fmt(med('instancesUs'), 2)} | ${fmt(med('servicesUs'), 2)} | ${fmt(med('p99'), 2)} | ${row.instances === 1 ? '1×' : ratio(med('usPerDelivery'), one)} |`,
      );
    });
    lines.push(
      '',
      `- ${first.map((r, i) => `${r.load}, ${r.instances}: ${runs.map((run) => countersLine(run[i]?.counters as Counters)).join('; ')}`).join('\n- ')}`,
      '- both instances on core 0, Redis and PostgreSQL unpinned, the load generator on core 1: on two cores, CPU per delivery (not throughput) is what can be compared',
      '',
    );
    results.cluster = runs;
  } else if (scenario === 'history') {
    const h = await history();
    lines.push('### history (roomchat only: the baseline has no store)', '');
    lines.push(
      `- SQLite appends (file, synchronous=FULL), one at a time: ${fmt(h.appendsPerSecSequential, 0)} events/s`,
    );
    lines.push(`- SQLite appends, 100 arriving together (one group commit): ${fmt(h.appendsPerSecBurst, 0)} events/s`);
    lines.push(`- welcome with \`since=0\` over about 1200 events (the newest 1000): ${fmt(h.resume1000Ms, 1)} ms`, '');
    results.history = h;
  } else if (scenario === 'search') {
    const f = await searchBench({ quick, databaseUrl: DATABASE === 'none' ? undefined : DATABASE });
    const row = (store: string, x: { p50: number; p99: number; max: number; meanResults: number } | null) =>
      x
        ? `| ${store} | ${fmt(x.p50, 2)} | ${fmt(x.p99, 2)} | ${fmt(x.max, 2)} | ${fmt(x.meanResults, 1)} |`
        : `| ${store} | skipped (no database) | | | |`;
    lines.push(
      `### search (roomchat only): one room of ${f.messages.toLocaleString('en')} messages, ${f.queries} queries of 1–3 words`,
      '',
      '| store | p50 ms | p99 ms | max ms | results per query (page of 20 + 1) |',
      '|---|---|---|---|---|',
      row('SQLite (FTS5)', f.sqlite),
      row('PostgreSQL (GIN)', f.postgres),
      '',
      `- SQLite appends/s, 500 at a time: ${fmt(f.append.sqliteWith, 0)} with the index, ${fmt(f.append.sqliteWithout, 0)} without: ${ratio(f.append.sqliteWith, f.append.sqliteWithout)}`,
      f.append.postgresWith === null
        ? '- PostgreSQL appends: skipped'
        : `- PostgreSQL appends/s, 50 at a time: ${fmt(f.append.postgresWith, 0)} with the index, ${fmt(f.append.postgresWithout ?? 0, 0)} without: ${ratio(f.append.postgresWith, f.append.postgresWithout ?? 0)}`,
      `- building the SQLite room (synchronous=NORMAL): ${fmt(f.sqlite.buildSeconds, 0)} s`,
      '',
    );
    results.search = f;
  } else {
    throw new Error(`unknown scenario ${scenario} (${ALL.join(', ')})`);
  }
}

const header = [
  `## roomchat benchmark`,
  '',
  `Machine: ${machine}. Servers pinned to core 0, load generator to core 1; medians of ${RUNS} run(s).`,
  '',
];
const report = [...header, ...lines].join('\n');
console.log(report);
// only a full run replaces the published results; a partial one is printed only
if (!quick && named.length === 0) {
  const dir = resolve(PROJECT_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'latest.md'), `${report}\n`);
  writeFileSync(resolve(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}
console.log(
  `correctness: ${correctnessOk ? 'ok' : 'FAILED'} (lost, duplicated, out of order and leaked must all be 0)`,
);
process.exit(correctnessOk ? 0 : 1);
