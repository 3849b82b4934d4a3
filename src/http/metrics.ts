/** GET /metrics: Prometheus text exposition of this instance's metrics (see infer/metrics.ts). */
import type { FastifyPluginAsync } from 'fastify';

export const metricsRoutes: FastifyPluginAsync = async (app) => {
  const { metrics } = app.services;
  app.get('/metrics', { config: { scope: 'admin' }, schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)' } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
