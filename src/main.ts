/**
 * The process, once server.ts has checked the Node.js version: load the config (the environment
 * over `.env`), build the app, listen and say where; on SIGTERM or SIGINT shut down in order
 * (stop accepting, store what was accepted, close sockets with 1001, close the store) and exit.
 * A second signal while shutting down is ignored: process managers signal the whole group.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig, processEnv } from './config.js';
import { listenLines } from './start-line.js';

let config: ReturnType<typeof loadConfig>;
let fromFile: string[] = [];
try {
  const read = processEnv();
  fromFile = read.fromFile;
  config = loadConfig(read.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`roomchat: ${err.message}\n`);
  process.exit(1);
}

const app = await buildApp(config);
if (fromFile.length > 0) app.log.info({ variables: fromFile }, 'settings read from .env');
let stopping = false;

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    app.log.info({ signal }, 'already shutting down; signal ignored');
    return;
  }
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  force.unref();
  try {
    await app.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s) => void shutdown(s));

try {
  await app.listen({ port: config.port, host: config.host, backlog: 4096, listenTextResolver: listenLines(config) });
} catch (err) {
  app.log.fatal({ err }, 'could not listen');
  process.exit(1);
}
