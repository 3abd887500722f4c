/**
 * How the server logs: pino, as Fastify does. On a terminal (or LOG_FORMAT=pretty) one readable
 * line per entry through pino-pretty, in a worker thread as pino's transports run; otherwise (a
 * pipe, a file, a process manager) one JSON object per line. One line per request at most, none
 * for the page's assets at `info`.
 * @see https://github.com/pinojs/pino-pretty
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

/** Whether entries are written for people (pretty) or for programs (JSON). */
export function prettyLogs(format: Config['logFormat'], isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
}

/** pino's options for this config: level, and the pretty transport when wanted. */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logFormat'>, isTTY: boolean) {
  const options: Exclude<FastifyServerOptions['logger'], boolean | undefined> & { level: string } = {
    level: config.logLevel,
  };
  if (prettyLogs(config.logFormat, isTTY)) {
    options.transport = {
      target: 'pino-pretty',
      // a request's fields are in its message already: shown once
      options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,reqId,method,url,status,ms', singleLine: true },
    };
  }
  return options;
}

/** Requests answered under this prefix are logged at `debug`: the page's scripts, styles, icons. */
const QUIET = '/assets/';

/**
 * One line per request, when it is answered: method, path (uid redacted), status and time; a
 * WebSocket handshake when it arrives (a refused one also when answered, with its status).
 * Fastify's own two lines per request are turned off (its LogController, in app.ts).
 */
export function logRequests(app: FastifyInstance, redact: (url: string) => string): void {
  // a WebSocket handshake is taken over by the socket and never "answered": its line is its start
  app.addHook('onRequest', async (req) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket')
      req.log.info({ method: req.method, url: redact(req.url) }, `${req.method} ${redact(req.url)} (WebSocket)`);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && reply.statusCode === 101) return;
    const level = req.url.startsWith(QUIET) && reply.statusCode < 400 ? 'debug' : 'info';
    req.log[level](
      { method: req.method, url: redact(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      `${req.method} ${redact(req.url)} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`,
    );
  });
}
