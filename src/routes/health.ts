/** Liveness, readiness (store and bus reachable) and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export default async function health(app: FastifyInstance, { registry }: { registry: Registry }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.allSettled([app.store.ping(), app.bus.ping()]);
    const [store, bus] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    const ready = store === 'ok' && bus === 'ok' && !app.chat.closing;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store, bus });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
