/**
 * The benchmark: roomchat against the naive baseline (bench/baseline/) on the same machine in one
 * run, each server pinned to core 0 and this load generator to core 1. Prints a markdown table and
 * writes it with the raw figures to bench/results/.
 *
 *   npm run bench                       all scenarios, medians of 3 runs
 *   npm run bench -- --runs 1 fanout    one scenario, one run
 *   npm run bench -- --quick            a small, fast pass (used by the tests)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { type Counters, LoadGenerator } from './lib/loadgen.js';
import { type ServerKind, ServerProcess } from './lib/servers.js';
import { searchBench } from './search.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runsArg = argv.indexOf('--runs');
const RUNS = quick ? 1 : runsArg >= 0 ? Number(argv[runsArg + 1]) : 3;
const dbArg = argv.indexOf('--database');
/** Where the search scenario makes its scratch PostgreSQL databases (`--database none` to skip). */
const DATABASE = dbArg >= 0 ? (argv[dbArg + 1] as string) : 'postgres://postgres@127.0.0.1:5432/test';
const named = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs' && argv[i - 1] !== '--database');
const SCENARIOS = named.length ? named : ['fanout', 'rooms', 'growth', 'idle', 'history', 'search'];
const KINDS: ServerKind[] = ['baseline', 'roomchat'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// the load generator on core 1, the servers on core 0: each side's cost is its own
try {
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  console.warn('taskset failed: the load generator is not pinned');
}

interface StepResult {
  offered: number;
  achieved: number;
  p50: number;
  p99: number;
  serverCpuPct: number;
  loadgenCpuPct: number;
  usPerDelivery: number;
}

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
  return {
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

/** 1 room × 1000 members, one sender, offered deliveries/s in steps until p99 > 250 ms or a loss. */
async function fanout(kind: ServerKind) {
  const members = quick ? 100 : 1000;
  const steps = quick ? [5_000, 10_000] : [20_000, 50_000, 100_000, 150_000, 200_000];
  const window = quick ? 1000 : 4000;
  return withServer(kind, async (server) => {
    const lg = new LoadGenerator(server.ws, 1, members);
    await lg.connect();
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

/** 10 000 idle connections over 100 rooms: resident memory per connection. */
async function idle(kind: ServerKind) {
  const [nRooms, perRoom] = quick ? [10, 50] : [100, 100];
  return withServer(kind, async (server) => {
    const warm = new LoadGenerator(server.ws, 1, 10, 'warm');
    await warm.connect();
    await sleep(1000);
    await server.collectGarbage();
    const before = server.rssKiB();
    const lg = new LoadGenerator(server.ws, nRooms, perRoom);
    await lg.connect(200);
    await sleep(2000); // joins delivered
    await server.collectGarbage(); // what the connections hold, not the garbage of setting them up
    const after = server.rssKiB();
    await lg.close();
    await warm.close();
    return { connections: nRooms * perRoom, kibPerConnection: (after - before) / (nRooms * perRoom) };
  });
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

async function loadScenario(name: 'fanout' | 'rooms', fn: typeof fanout) {
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
    '| offered deliveries/s | server | achieved/s | p50 ms | p99 ms | server CPU | load gen CPU | server µs/delivery | vs baseline |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (let i = 0; i < stepCount; i++) {
    for (const kind of KINDS) {
      const runs = reached(kind, i).length;
      if (runs * 2 <= RUNS) {
        const offered = med(KINDS.find((k) => reached(k, i).length > 0) as ServerKind, i, 'offered');
        lines.push(
          `| ${offered} | ${kind} | stopped before: p99 over 250 ms in ${RUNS - runs} of ${RUNS} runs | | | | | | |`,
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
        `${fmt(med(kind, i, 'loadgenCpuPct'), 0)} %`,
        fmt(us, 2),
        kind === 'roomchat' ? ratio(us, base) : '1×',
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  for (const kind of KINDS) {
    for (const run of per[kind]) checkCounters(run.counters);
    lines.push(`- ${kind}: ${per[kind].map((x) => countersLine(x.counters)).join('; ')}`);
  }
  lines.push('');
  results[name] = per;
}

for (const scenario of SCENARIOS) {
  console.error(`# ${scenario}…`);
  if (scenario === 'fanout') await loadScenario('fanout', fanout);
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
    const per: Record<ServerKind, number[]> = { baseline: [], roomchat: [] };
    for (let r = 0; r < RUNS; r++) for (const kind of KINDS) per[kind].push((await idle(kind)).kibPerConnection);
    const [b, o] = [median(per.baseline), median(per.roomchat)];
    lines.push('### idle', '', '| server | RSS KiB per idle connection | vs baseline |', '|---|---|---|');
    lines.push(`| baseline | ${fmt(b, 2)} | 1× |`, `| roomchat | ${fmt(o, 2)} | ${ratio(o, b)} |`, '');
    results.idle = per;
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
    throw new Error(`unknown scenario ${scenario} (fanout, rooms, growth, idle, history, search)`);
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
