/**
 * What `npm start` says once it listens: where to open the app and where its history goes, in
 * one line; secrets never (the password of a Redis or PostgreSQL URL is left out).
 */
import { isAbsolute, relative } from 'node:path';
import type { Config } from './config.js';

/**
 * A URL without its password (and without a secret in the query). Anything that is not a URL
 * with a scheme (`user:pass@host`, which ioredis accepts, a socket path, libpq's keywords) is not
 * shown at all: it could hold a password where no parser finds it.
 */
export function withoutSecrets(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return '(as configured)';
  try {
    const u = new URL(url);
    u.password = '';
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|token|key/i.test(key)) u.searchParams.delete(key);
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

/** `./data/roomchat.db` for a path under the working directory, else the absolute path. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}

/** Where the history and the rooms live, as the start line says it. */
export function storeText(config: Config, cwd = process.cwd()): string {
  if (config.databaseUrl && config.redisUrl) {
    return `history in PostgreSQL at ${withoutSecrets(config.databaseUrl)}, rooms shared through Redis at ${withoutSecrets(config.redisUrl)}`;
  }
  return `history in ${shownPath(config.sqlitePath, cwd)}`;
}

/** The address to open: `localhost` for a loopback or every-interface listener. */
export function openAddress(listening: string): string {
  const u = new URL(listening);
  if (['0.0.0.0', '127.0.0.1', '[::]', '[::1]'].includes(u.hostname)) u.hostname = 'localhost';
  return u.toString().replace(/\/$/, '');
}

/**
 * The lines Fastify logs for each address it listens on: the first says where to open the app,
 * the others where else it answers (HOST=0.0.0.0 listens on every interface, other machines too).
 */
export function listenLines(config: Config, cwd = process.cwd()): (address: string) => string {
  let first = true;
  return (address) => {
    if (first) {
      first = false;
      return `roomchat listening on ${openAddress(address)} (${storeText(config, cwd)})`;
    }
    const everywhere = config.host === '0.0.0.0' || config.host === '::';
    return everywhere
      ? `also reachable at ${address} (HOST=${config.host}: other machines can connect)`
      : `also listening at ${address}`;
  };
}
