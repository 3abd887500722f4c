/**
 * Files in the room page, in real Chromium: attach, upload with progress, send, the image as a
 * thumbnail that opens full size (Escape closes it), other files as a chip with a download link,
 * and a paste of an image from the clipboard.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { useChromium } from './browser.js';
import { e2eRoom, openRoom, RestartableServer } from './harness.js';

const browser = useChromium();

test('an attached image reaches the others as a thumbnail that opens full size; a document as a chip', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('files');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const bob = await openRoom(browser(), t, server.url, room, 'Bob');
  const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#2a9d8f' } })
    .png()
    .toBuffer();
  await alice.page.setInputFiles('#file-input', [
    { name: 'beach.png', mimeType: 'image/png', buffer: png },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('bring sunscreen') },
  ]);
  await alice.page.waitForFunction(() => document.querySelectorAll('#uploads li.upload.done').length === 2);
  await alice.page.fill('#text', 'from the trip');
  await alice.page.click('#send');
  await bob.waitForMessage('from the trip');
  const thumb = bob.page.locator('#events li.msg a.image img');
  await thumb.waitFor();
  assert.equal(await thumb.getAttribute('alt'), 'beach.png');
  await bob.page.waitForFunction(() => {
    const img = document.querySelector('#events li.msg a.image img');
    return img instanceof HTMLImageElement && img.complete && img.naturalWidth === 480;
  });
  const chip = bob.page.locator('#events li.msg a.file-chip');
  assert.equal(await chip.locator('.file-name').textContent(), 'notes.txt');
  assert.equal(await chip.getAttribute('download'), 'notes.txt');
  const [download] = await Promise.all([bob.page.waitForEvent('download'), chip.click()]);
  assert.equal(download.suggestedFilename(), 'notes.txt');
  await thumb.click();
  await bob.page.waitForFunction(() => (document.getElementById('lightbox') as HTMLDialogElement).open);
  await bob.page.waitForFunction(() => {
    const img = document.getElementById('lightbox-image') as HTMLImageElement;
    return img.complete && img.naturalWidth === 900;
  });
  await bob.page.keyboard.press('Escape');
  await bob.page.waitForFunction(() => !(document.getElementById('lightbox') as HTMLDialogElement).open);
  assert.equal(await alice.page.locator('#uploads li').count(), 0, 'the tray is empty once sent');
});

test('a pasted screenshot is uploaded and may be sent without text', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('paste');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#e76f51' } })
    .png()
    .toBuffer();
  await alice.page.focus('#text');
  await alice.page.evaluate(
    (bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }));
      document
        .getElementById('text')
        ?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    },
    [...png],
  );
  await alice.page.waitForSelector('#uploads li.upload.done');
  assert.equal(await alice.page.isEnabled('#send'), true, 'files alone may be sent');
  await alice.page.click('#send');
  await alice.page.waitForSelector('#events li.msg.own a.image img');
});

test('on a slow link an upload shows its progress and can be cancelled: nothing is kept', async (t) => {
  const server = await RestartableServer.start(t);
  const room = e2eRoom('slow');
  const alice = await openRoom(browser(), t, server.url, room, 'Alice');
  const cdp = await alice.page.context().newCDPSession(alice.page);
  await cdp.send('Network.enable');
  // 256 KiB/s up: a 4 MiB file takes some 16 s
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: 256 * 1024,
  });
  await alice.page.setInputFiles('#file-input', [
    { name: 'video.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1024 * 1024, 7) },
  ]);
  await alice.page.waitForFunction(() => {
    const bar = document.querySelector('#uploads li.upload progress');
    return bar instanceof HTMLProgressElement && bar.value > 0.02 && bar.value < 0.9;
  });
  assert.equal(await alice.page.isEnabled('#send'), false, 'not sendable while uploading');
  await alice.page.click('#uploads li.upload .chip-close');
  assert.equal(await alice.page.locator('#uploads li').count(), 0);
  assert.equal(await alice.page.isHidden('#uploads'), true);
  // a marker message after the cancel: by then the aborted request has reached the server
  await alice.send('after the cancel');
  await alice.waitForMessage('after the cancel');
  const { readdirSync } = await import('node:fs');
  const kept = (() => {
    try {
      return readdirSync(server.config.filesDir);
    } catch {
      return [];
    }
  })();
  assert.deepEqual(kept, [], 'a cancelled upload leaves no file');
});
