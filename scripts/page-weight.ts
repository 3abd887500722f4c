/**
 * The room page's weight as a browser fetches it: bytes transferred (compressed, headers
 * included) and decoded, on a first visit and on a second one with the browser's cache, in real
 * Chromium against a throwaway server.  Run: node --import tsx scripts/page-weight.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { launchChromium } from '../test/e2e/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'roomchat-weight-'));
const app = await buildApp(
  {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    sqlitePath: join(dir, 'chat.db'),
    serverSecret: 'weight-secret-00000000',
  },
  { logger: false },
);
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const browser = await launchChromium();
try {
  const context = await browser.newContext();
  await context.addInitScript(() => localStorage.setItem('roomchat.name', 'Weigher'));
  const page = await context.newPage();
  const client = await context.newCDPSession(page);
  await client.send('Network.enable');
  for (const visit of ['first visit', 'second visit (cached)']) {
    let transferred = 0;
    const cached = new Set<string>();
    const fetched = new Map<string, string>();
    const onFinished = (e: { requestId: string; encodedDataLength: number }) => {
      transferred += e.encodedDataLength;
      const url = fetched.get(e.requestId);
      if (url && process.argv.includes('--each')) console.log(`  ${e.encodedDataLength}\t${url}`);
    };
    const onResponse = (e: {
      requestId: string;
      response: { url: string; fromDiskCache?: boolean; fromPrefetchCache?: boolean; fromServiceWorker?: boolean };
    }) => {
      if (e.response.fromDiskCache || e.response.fromPrefetchCache) cached.add(e.requestId);
      else fetched.set(e.requestId, e.response.url);
    };
    const onMemory = (e: { requestId: string }) => cached.add(e.requestId);
    client.on('Network.loadingFinished', onFinished);
    client.on('Network.responseReceived', onResponse);
    client.on('Network.requestServedFromCache', onMemory);
    await page.goto(`${base}/?room=weight`);
    await page.waitForSelector('#members li.me');
    await page.waitForTimeout(500);
    client.off('Network.loadingFinished', onFinished);
    client.off('Network.responseReceived', onResponse);
    client.off('Network.requestServedFromCache', onMemory);
    const decoded = await page.evaluate(() =>
      [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].reduce(
        (n, e) => n + (e as PerformanceResourceTiming).decodedBodySize,
        0,
      ),
    );
    const requests = [...fetched.keys()].filter((id) => !cached.has(id)).length;
    console.log(
      `${visit}: ${requests} requests over the network, ${cached.size} from the cache, ` +
        `${(transferred / 1024).toFixed(1)} KiB transferred, ${(decoded / 1024).toFixed(1)} KiB decoded`,
    );
  }
} finally {
  await browser.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
