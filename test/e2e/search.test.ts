/**
 * Search in the room page, in real Chromium: the box (Ctrl/Cmd+K or `/`), results as you type
 * with the matched words marked (as text, never markup), and a pick that shows the message in the
 * conversation, loading the page around it and, on demand, the messages in between.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useChromium } from './browser.js';
import { e2eRoom, openRoom, RestartableServer } from './harness.js';

const browser = useChromium();

test('search a word, pick an old result: the message is shown highlighted in the conversation', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('search');
  const texts = Array.from({ length: 300 }, (_, i) => `filler ${i + 1}`);
  texts[39] = 'a golden Needle in the hay';
  texts[249] = 'another needle, <b>bold</b> <img src=x onerror="window.hacked=1">';
  for (const [i, text] of texts.entries()) {
    await server.store.append({
      draft: {
        type: 'message',
        room,
        id: `m${i + 1}`,
        from: { id: 'x', name: 'Xena' },
        text,
        ts: new Date().toISOString(),
      },
      memberId: 'x',
    });
  }
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const page = alice.page;
  assert.equal(await page.$('#events li[data-seq="40"]'), null, 'the old message is not loaded at first');

  await page.keyboard.press('Control+K');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search', 'Ctrl+K goes to the search box');
  await page.keyboard.type('NEEDLE');
  await page.waitForFunction(() => document.querySelectorAll('#search-list button.result').length === 2);
  const results = await page.$$eval('#search-list button.result', (els) =>
    els.map((e) => ({
      seq: (e as HTMLElement).dataset.seq,
      marked: [...e.querySelectorAll('mark')].map((m) => m.textContent),
      elements: e.querySelectorAll('.text *:not(mark)').length,
    })),
  );
  assert.deepEqual(
    results,
    [
      { seq: '250', marked: ['needle'], elements: 0 },
      { seq: '40', marked: ['Needle'], elements: 0 },
    ],
    'newest first, the word marked in each, the markup of a text shown as text',
  );
  assert.match((await page.textContent('#search-status')) ?? '', /2 messages found/);
  assert.equal(await page.evaluate(() => (window as { hacked?: number }).hacked), undefined);

  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(
    await page.evaluate(() => (document.activeElement as HTMLElement)?.dataset.seq),
    '40',
    'arrows move through results',
  );
  await page.keyboard.press('Enter');
  const found = page.locator('#events li.msg.found');
  await found.waitFor();
  assert.equal(await found.getAttribute('data-seq'), '40');
  assert.equal(await found.locator('.text').textContent(), 'a golden Needle in the hay');
  assert.ok(await page.$eval('#search-results', (e) => (e as HTMLElement).hidden), 'the results closed');
  const inView = await found.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const log = document.getElementById('log')?.getBoundingClientRect();
    return log !== undefined && box.top >= log.top && box.bottom <= log.bottom;
  });
  assert.ok(inView, 'the message is scrolled into view');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-seq')), '40', 'and focused');

  // the messages between the page around it and the newest ones load on demand, once each
  await page.click('#events li.gap button');
  await page.waitForFunction(() => document.querySelectorAll('#events li.gap').length === 0);
  const seqs = await page.$$eval('#events li.msg', (els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
  const first = seqs[0] ?? 0;
  assert.deepEqual(
    seqs,
    Array.from({ length: 301 - first }, (_, i) => first + i),
    'contiguous from the page around the message to the newest, each once',
  );
  assert.ok(first <= 40);

  // `/` outside a text field goes to search; Escape empties it and goes back to the composer
  await page.click('#log');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
  assert.equal(await page.inputValue('#search'), 'NEEDLE', 'the last search is kept');
  await page.keyboard.press('Escape');
  assert.equal(await page.inputValue('#search'), '');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'text');
});

test('a search without matches says so; Chinese and Japanese are found inside a run', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('search-cjk');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  await alice.send('今日はとても良い天気です');
  await alice.waitForMessage('今日はとても良い天気です');
  const page = alice.page;
  await page.fill('#search', '天気');
  await page.waitForFunction(() => document.querySelectorAll('#search-list button.result').length === 1);
  assert.deepEqual(await page.$$eval('#search-list mark', (els) => els.map((e) => e.textContent)), ['天気']);
  await page.fill('#search', 'zebra');
  await page.waitForFunction(() =>
    /No messages match/.test(document.getElementById('search-status')?.textContent ?? ''),
  );
  assert.equal(await page.$$eval('#search-list button.result', (els) => els.length), 0);
});
