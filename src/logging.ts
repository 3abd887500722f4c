/**
 * How the server logs: pino, as Fastify does. On a terminal (or LOG_FORMAT=pretty) one readable
 * line per entry through pino-pretty, written synchronously (the last lines before an exit are
 * not lost); otherwise (a pipe, a file, a process manager) one JSON object per line. One line per
 * request at most, none for the page's assets and for health probes at `info`; a failed request
 * (5xx) also gets Fastify's error line with its stack.
 * @see https://github.com/pinojs/pino-pretty
 */
import {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import pretty from 'pino-pretty';
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
    // a request's fields are in its message already: shown once
    options.stream = pretty({
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,reqId,method,url,status,ms',
      singleLine: true,
      sync: true,
    });
  }
  return options;
}

/**
 * Fastify's own lines per request, but for errors: "incoming request", "request completed" and
 * "route not found" give way to logRequests' one line; a request that failed (5xx) keeps its
 * error line with the stack.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override routeNotFound(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) super.defaultErrorLog(error, request, reply);
  }
}

/** Requests answered well here are logged at `debug`: the page's assets, health probes, scrapes. */
const QUIET = /^\/(assets\/|healthz|readyz|metrics)/;

/**
 * One line per request, when it is answered: method, path (uid redacted), status and time; a
 * WebSocket handshake when it arrives (a refused one also when answered, with its status).
 * Fastify's own two lines per request are turned off (OneLinePerRequest).
 */
export function logRequests(app: FastifyInstance, redact: (url: string) => string): void {
  // a WebSocket handshake is taken over by the socket and never "answered": its line is its start
  app.addHook('onRequest', async (req) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket')
      req.log.info({ method: req.method, url: redact(req.url) }, `${req.method} ${redact(req.url)} (WebSocket)`);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && reply.statusCode === 101) return;
    const level = reply.statusCode >= 500 ? 'error' : QUIET.test(req.url) && reply.statusCode < 400 ? 'debug' : 'info';
    req.log[level](
      { method: req.method, url: redact(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      `${req.method} ${redact(req.url)} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`,
    );
  });
}
