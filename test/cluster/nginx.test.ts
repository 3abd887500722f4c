/**
 * The nginx configuration of deploy/nginx.conf, run for real in front of two instances.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { connect, handshakeStatus, newRoom, newUid, sleep, until } from '../helpers.js';
import { freePort, type Instance, startCluster } from './harness.js';

const NGINX = '/usr/sbin/nginx';

test('nginx from deploy/ spreads WebSockets over two instances without stickiness', async (t) => {
  assert.ok(existsSync(NGINX), `${NGINX} is missing: apt-get install -y nginx`);
  // the instances trust nginx (on loopback) for the client's address; four connections per address
  const nodes = await startCluster(t, { instances: 2, env: { TRUST_PROXY: '127.0.0.1', MAX_CONNECTIONS_PER_IP: '4' } });
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const shipped = readFileSync(resolve(PROJECT_ROOT, 'deploy/nginx.conf'), 'utf8');
  const conf = shipped
    .replace('server 127.0.0.1:3001;', `server 127.0.0.1:${(nodes[0] as Instance).port};`)
    .replace('server 127.0.0.1:3002;', `server 127.0.0.1:${(nodes[1] as Instance).port};`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('events {', `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'logs/error.log')};\nevents {`)
    .replace('/var/log/nginx/access.log', join(dir, 'access.log'))
    .replace('http {', `http {\n  client_body_temp_path ${dir};\n  proxy_temp_path ${dir};`);
  assert.notEqual(conf, shipped);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  t.after(() => {
    nginx.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error('nginx did not come up');
    await sleep(100);
  }
  const room = newRoom('nginx');
  const ws = `ws://127.0.0.1:${port}`;
  // the browser's origin is the proxy's: the Host header must reach the instances unchanged
  const origin = { Origin: base };
  const clients = [];
  const uids = Array.from({ length: 4 }, () => newUid());
  const client = '127.0.0.2';
  for (const uid of uids) clients.push(await connect(ws, room, { uid, headers: origin, localAddress: client }));
  const perInstance = await Promise.all(
    nodes.map(async (n) =>
      Number(/^roomchat_connections (\d+)/m.exec(await (await fetch(`${n.http}/metrics`)).text())?.[1]),
    ),
  );
  assert.deepEqual(perInstance, [2, 2], 'round robin: two connections on each instance');
  // the cap counts the client's own address (not nginx's), over both instances
  const handshake = (from: string) => handshakeStatus(`${ws}/ws?room=${room}&uid=${newUid()}`, origin, from);
  assert.equal(await handshake(client), 429, 'a fifth connection from the same client, whichever instance');
  assert.equal(await handshake('127.0.0.3'), 101, 'another client behind the same proxy');
  const acks = [];
  for (const c of clients) acks.push(await c.say(`via nginx from ${c.id}`));
  const last = Math.max(...acks.map((a) => a.seq));
  for (const c of clients) {
    await until(() => c.events.some((e) => e.seq === last));
    assert.equal(c.events.filter((e) => e.type === 'message').length, 4);
  }
  const page = await fetch(`${base}/?room=${room}`);
  assert.equal(page.status, 200);
  assert.equal((await fetch(`${base}/metrics`)).status, 403, 'no metrics through the proxy');
  // nginx writes a request's log line when it ends: close the sockets, then read the log
  await Promise.all(clients.map((c) => c.close()));
  await until(
    () =>
      readFileSync(join(dir, 'access.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('/ws')).length >= 4,
  );
  const log = readFileSync(join(dir, 'access.log'), 'utf8');
  for (const uid of uids) assert.equal(log.includes(uid), false, 'no uid in the access log');
});
