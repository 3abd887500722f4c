/**
 * The `search` scenario: one room of a million messages (a fixed seed; words drawn with Zipf
 * frequencies from a made-up vocabulary, one message in ten Chinese or Japanese), searched 200
 * times with queries of 1 to 3 words drawn the same way, on SQLite and on PostgreSQL; and what the
 * index costs the append path (appends/s with and without it, as a ratio).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AppendInput, HistoryStore } from '../src/chat/store/history-store.js';
import { PostgresStore } from '../src/chat/store/postgres.js';
import { tsvectorOf } from '../src/chat/store/shared.js';
import { SqliteStore } from '../src/chat/store/sqlite.js';
import { indexText, parseQuery } from '../src/shared/search.js';
import { scratchDatabase } from './lib/scratch-database.js';

export interface SearchFigures {
  messages: number;
  queries: number;
  sqlite: { p50: number; p99: number; max: number; meanResults: number; buildSeconds: number };
  postgres: { p50: number; p99: number; max: number; meanResults: number } | null;
  append: {
    sqliteWith: number;
    sqliteWithout: number;
    postgresWith: number | null;
    postgresWithout: number | null;
  };
}

/** mulberry32: a small seeded generator, the same corpus on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with Zipf frequencies (exponent s): rank 0 the most common. */
function zipf(n: number, s: number, rnd: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  return () => {
    const x = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const SYLLABLES = 'ka ri to ne su mo la vi pe do an el is or un ba ce gi fo hu ja ke li mu no pa qu re si te'.split(
  ' ',
);
const KANA = Array.from({ length: 86 }, (_, i) => String.fromCodePoint(0x3041 + i));
const HAN = Array.from({ length: 2500 }, (_, i) => String.fromCodePoint(0x4e00 + i * 3));

/** The corpus and the queries, from one seed. */
export function corpus(seed = 20261130) {
  const rnd = random(seed);
  const vocabulary = Array.from({ length: 30_000 }, (_, i) => {
    let w = '';
    for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length)) w += SYLLABLES[n % SYLLABLES.length];
    return w;
  });
  const word = zipf(vocabulary.length, 1.05, rnd);
  const cjkChars = [...KANA, ...HAN];
  const cjk = zipf(cjkChars.length, 0.9, rnd);
  const cjkRun = (n: number) => Array.from({ length: n }, () => cjkChars[cjk()]).join('');
  const message = (): string => {
    if (rnd() < 0.1) return cjkRun(5 + Math.floor(rnd() * 35));
    const n = 1 + Math.floor(-Math.log(1 - rnd()) * 9); // about 10 words, a long tail
    const words = Array.from({ length: Math.min(n, 120) }, () => vocabulary[word()] as string);
    return `${words.join(' ')}${rnd() < 0.3 ? '?' : '.'}`;
  };
  const query = (): string => {
    if (rnd() < 0.1) return cjkRun(2 + Math.floor(rnd() * 2));
    return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => vocabulary[word()]).join(' ');
  };
  return { message, query };
}

const input = (room: string, i: number, text: string): AppendInput => ({
  draft: { type: 'message', room, id: `m${i}`, from: { id: 'a', name: 'A' }, text, ts: new Date(0).toISOString() },
  memberId: 'a',
});

/** Append `texts` in bursts of 500 (one group commit each on SQLite); appends per second. */
async function appendAll(store: HistoryStore, room: string, texts: string[], concurrency = 500): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += concurrency) {
    await Promise.all(texts.slice(i, i + concurrency).map((text, k) => store.append(input(room, i + k, text))));
  }
  return texts.length / ((performance.now() - t0) / 1000);
}

/** Latencies (ms) of the queries, and the mean number of results (at most 21: a page and one). */
async function timeQueries(store: HistoryStore, room: string, queries: string[]) {
  const ms: number[] = [];
  let results = 0;
  for (const q of queries) {
    const t0 = performance.now();
    results += (await store.search(room, parseQuery(q), { limit: 21 })).length;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] as number;
  return { p50: at(0.5), p99: at(0.99), max: ms.at(-1) as number, meanResults: results / queries.length };
}

export async function searchBench({
  quick,
  databaseUrl,
}: {
  quick: boolean;
  databaseUrl?: string;
}): Promise<SearchFigures> {
  const messages = quick ? 20_000 : 1_000_000;
  const queryCount = quick ? 20 : 200;
  const { message, query } = corpus();
  const texts = Array.from({ length: messages }, message);
  const queries = Array.from({ length: queryCount }, query);
  const appendSample = texts.slice(0, quick ? 5_000 : 50_000);
  const room = 'big-room';
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-bench-search-'));
  try {
    // the append path with and without the index, on fresh files, the same messages, alternated
    const rates = { with: [] as number[], without: [] as number[] };
    for (let round = 0; round < 2; round++) {
      for (const searchIndex of [true, false]) {
        const store = new SqliteStore({ path: join(dir, `append-${round}-${searchIndex}.db`), searchIndex });
        rates[searchIndex ? 'with' : 'without'].push(await appendAll(store, room, appendSample));
        await store.close();
      }
    }
    const best = (xs: number[]) => Math.max(...xs);
    // the million, then the searches
    const t0 = performance.now();
    const store = new SqliteStore({ path: join(dir, 'search.db'), durability: 'normal' });
    await appendAll(store, room, texts);
    const buildSeconds = (performance.now() - t0) / 1000;
    await timeQueries(store, room, queries.slice(0, 10)); // warm the cache
    const sqlite = { ...(await timeQueries(store, room, queries)), buildSeconds };
    await store.close();

    let postgres: SearchFigures['postgres'] = null;
    const append = {
      sqliteWith: best(rates.with),
      sqliteWithout: best(rates.without),
      postgresWith: null as number | null,
      postgresWithout: null as number | null,
    };
    if (databaseUrl) {
      const pgRates = { with: [] as number[], without: [] as number[] };
      for (let round = 0; round < 2; round++) {
        for (const searchIndex of [true, false]) {
          const db = await scratchDatabase(databaseUrl, 'roomchat_bench_append');
          const pgStore = await PostgresStore.open({ connectionString: db.url, searchIndex, poolSize: 10 });
          if (!searchIndex) await pgDrop(db.url); // no GIN index to keep either
          pgRates[searchIndex ? 'with' : 'without'].push(
            await appendAll(pgStore, room, appendSample.slice(0, quick ? 2_000 : 20_000), 50),
          );
          await pgStore.close();
          await db.drop();
        }
      }
      append.postgresWith = best(pgRates.with);
      append.postgresWithout = best(pgRates.without);
      const db = await scratchDatabase(databaseUrl, 'roomchat_bench_search');
      try {
        const pgStore = await PostgresStore.open({ connectionString: db.url, poolSize: 2 });
        await bulkLoad(db.url, room, texts);
        await timeQueries(pgStore, room, queries.slice(0, 10));
        postgres = await timeQueries(pgStore, room, queries);
        await pgStore.close();
      } finally {
        await db.drop();
      }
    }
    return { messages, queries: queryCount, sqlite, postgres, append };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgDrop(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP INDEX events_words');
  await client.end();
}

/**
 * The million rows straight into the schema the store made (an append per round trip would take
 * most of an hour), with the terms the store would have written; then the statistics refreshed.
 */
async function bulkLoad(url: string, room: string, texts: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('INSERT INTO rooms (room, last_seq, last_at) VALUES ($1, $2, 0)', [room, texts.length]);
    for (let i = 0; i < texts.length; i += 5000) {
      const page = texts.slice(i, i + 5000);
      const seqs = page.map((_, k) => i + k + 1);
      const jsons = page.map((text, k) =>
        JSON.stringify({
          type: 'message',
          room,
          seq: seqs[k],
          id: `m${seqs[k]}`,
          from: { id: 'a', name: 'A' },
          text,
          ts: new Date(0).toISOString(),
        }),
      );
      await client.query(
        `INSERT INTO events (room, seq, type, member_id, json, msg_id, words)
         SELECT $1, s, 'message', 'a', j, 'm' || s, w::tsvector FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(s, j, w)`,
        [room, seqs, jsons, page.map((text) => tsvectorOf(indexText(text)))],
      );
    }
    await client.query('VACUUM ANALYZE events');
  } finally {
    await client.end();
  }
}
