/** Liveness, readiness (store and bus reachable) and Prometheus metrics (loopback, or with the token). */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { isLoopback, peerAddress } from '../plugins/host.js';

/** Whether a request may read the metrics: from loopback, or bearing the token when one is set. */
export function mayReadMetrics(req: FastifyRequest, token: string | undefined): boolean {
  // a request a proxy forwarded comes from loopback too, but not from this machine's operator
  if (isLoopback(peerAddress(req)) && req.headers['x-forwarded-for'] === undefined) return true;
  if (token === undefined) return false;
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface HealthOptions {
  registry: Registry;
  metricsToken?: string;
}

export default async function health(app: FastifyInstance, { registry, metricsToken }: HealthOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.allSettled([app.store.ping(), app.bus.ping()]);
    const [store, bus] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    const ready = store === 'ok' && bus === 'ok' && !app.chat.closing;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store, bus });
  });

  app.get('/metrics', async (req, reply) => {
    if (!mayReadMetrics(req, metricsToken)) {
      return reply.code(403).send({ error: 'forbidden', message: 'metrics are for loopback or the metrics token' });
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
