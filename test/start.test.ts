/**
 * The first minute of a new user: what `node dist/server.js` (what `npm start` runs) says, the
 * `.env` file, the log format for a terminal or a pipe, and the Node.js version check.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, processEnv, readEnvFile } from '../src/config.js';
import { loggerOptions, prettyLogs } from '../src/logging.js';
import { nodeProblem, requiredNode } from '../src/node-version.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { listenLines, storeText, withoutSecrets } from '../src/start-line.js';
import { buildIfStale } from './helpers.js';

const SERVER = join(PROJECT_ROOT, 'dist', 'server.js');

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomchat-start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Start the built server in `cwd` and collect its output until `until` matches it. */
async function run(
  t: import('node:test').TestContext,
  cwd: string,
  env: Record<string, string>,
  until: RegExp,
  viaTerminal = false,
): Promise<string> {
  const base = { PATH: process.env.PATH ?? '', HOME: cwd, ...env };
  const child: ChildProcess = viaTerminal
    ? spawn('script', ['-qfc', `${process.execPath} ${SERVER}`, '/dev/null'], { cwd, env: base })
    : spawn(process.execPath, [SERVER], { cwd, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    child.kill('SIGTERM');
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      out += chunk.toString();
      if (until.test(out)) resolve();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before saying ${until}: ${out}`)));
  });
  return out;
}

test('the start line says where to open the app and where the history goes, passwords left out', () => {
  const embedded = loadConfig({ SQLITE_PATH: '/srv/chat/data/roomchat.db', HOST: '127.0.0.1' });
  const lines = listenLines(embedded, '/srv/chat');
  assert.equal(
    lines('http://127.0.0.1:3000'),
    'roomchat listening on http://localhost:3000 (history in ./data/roomchat.db)',
  );
  assert.equal(storeText(embedded, '/elsewhere'), 'history in /srv/chat/data/roomchat.db');
  const cluster = loadConfig({
    REDIS_URL: 'redis://:s3cret@10.0.0.7:6379/2',
    DATABASE_URL: 'postgres://chat:hunter2@db.internal:5432/chat?sslmode=require&password=x',
    HOST: '0.0.0.0',
  });
  const said = listenLines(cluster)('http://0.0.0.0:8080');
  assert.equal(
    said,
    'roomchat listening on http://localhost:8080 (history in PostgreSQL at postgres://chat@db.internal:5432/chat?sslmode=require, rooms shared through Redis at redis://10.0.0.7:6379/2)',
  );
  assert.doesNotMatch(said, /s3cret|hunter2|password=/);
  assert.equal(withoutSecrets('default:s3cret@cache:6379'), '(as configured)', 'no scheme: not shown at all');
  assert.equal(withoutSecrets('host=db password=hunter2'), '(as configured)');
  const all = listenLines(cluster);
  all('http://127.0.0.1:8080');
  assert.equal(
    all('http://192.168.1.20:8080'),
    'also reachable at http://192.168.1.20:8080 (HOST=0.0.0.0: other machines can connect)',
  );
});

test('.env in the working directory is read; a variable of the environment wins over it', (t) => {
  const dir = tempDir(t);
  const file = join(dir, '.env');
  assert.deepEqual(readEnvFile(file), {}, 'no file: nothing');
  writeFileSync(file, '# settings\nPORT=4001\nLOG_LEVEL="warn"\nHOST=0.0.0.0\n');
  const { env, fromFile } = processEnv(file, { HOST: '127.0.0.1' });
  const config = loadConfig(env);
  assert.deepEqual([config.port, config.logLevel, config.host], [4001, 'warn', '127.0.0.1']);
  assert.deepEqual([...fromFile].sort(), ['LOG_LEVEL', 'PORT'], 'HOST came from the environment');
  // a file saved with a byte order mark reads the same; ENV_FILE names another file, or none
  writeFileSync(file, '\uFEFFPORT=4002\n');
  assert.equal(loadConfig(processEnv(file, {}).env).port, 4002);
  assert.equal(loadConfig(processEnv(undefined, { ENV_FILE: file }).env).port, 4002);
  assert.deepEqual(processEnv(undefined, { ENV_FILE: '' }).fromFile, [], 'ENV_FILE empty: no file');
});

test('logs are pretty on a terminal and JSON otherwise; LOG_FORMAT decides when set', () => {
  assert.equal(prettyLogs('auto', true), true);
  assert.equal(prettyLogs('auto', false), false);
  assert.equal(prettyLogs('json', true), false);
  assert.equal(prettyLogs('pretty', false), true);
  assert.equal(loggerOptions({ logLevel: 'info', logFormat: 'auto' }, false).stream, undefined, 'JSON to stdout');
  assert.notEqual(loggerOptions({ logLevel: 'info', logFormat: 'auto' }, true).stream, undefined, 'pino-pretty');
});

test('an older Node.js is told which version roomchat needs, in one sentence', () => {
  assert.deepEqual(requiredNode('>=20.19'), [20, 19, 0]);
  assert.deepEqual(requiredNode('>= 22.1.3'), [22, 1, 3]);
  assert.throws(() => requiredNode('^20'), /engines.node/);
  assert.match(nodeProblem('20.18.3', [20, 19, 0]) ?? '', /needs Node.js 20.19.0 or newer; this is Node.js 20.18.3/);
  assert.match(nodeProblem('18.20.0', [20, 19, 0]) ?? '', /needs Node.js 20.19.0/);
  assert.equal(nodeProblem('20.19.0', [20, 19, 0]), null);
  assert.equal(nodeProblem('22.0.0', [20, 19, 0]), null);
  assert.equal(nodeProblem(process.versions.node), null, 'this Node runs it');
});

test('started from a folder with a .env: JSON lines through a pipe, the start line, .env read, the environment first', async (t) => {
  buildIfStale();
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'PORT=0\nSQLITE_PATH=./data/from-dotenv.db\nHOST=0.0.0.0\n');
  const out = await run(t, dir, { HOST: '127.0.0.1', FILES_DIR: join(dir, 'files') }, /roomchat listening/);
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; variables?: string[] });
  const start = lines.find((l) => l.msg.startsWith('roomchat listening'));
  assert.match(
    start?.msg ?? '',
    /^roomchat listening on http:\/\/localhost:\d+ \(history in \.\/data\/from-dotenv\.db\)$/,
  );
  assert.deepEqual(lines.find((l) => l.msg === 'settings read from .env')?.variables?.sort(), ['PORT', 'SQLITE_PATH']);
  assert.equal(
    lines.filter((l) => l.msg.startsWith('also reachable')).length,
    0,
    'HOST=127.0.0.1 from the environment won',
  );
});

test('on a terminal the log is one readable line per entry', async (t) => {
  buildIfStale();
  const dir = tempDir(t);
  const out = await run(
    t,
    dir,
    { PORT: '0', HOST: '127.0.0.1', SQLITE_PATH: join(dir, 'chat.db'), FILES_DIR: join(dir, 'files') },
    /roomchat listening on [^\n]*\n/,
    true,
  );
  assert.match(out, /INFO.*roomchat listening on http:\/\/localhost:\d+ \(history in \.\/chat\.db\)/);
  assert.doesNotMatch(out, /"level":/, 'no JSON');
});
