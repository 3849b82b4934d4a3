/** GET /health (liveness + backend), GET /ready (Redis and store), GET /openapi.yaml. */
import fs from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { Health, Ready } from '../schemas/health.ts';

const VERSION = '0.1.0';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { services } = app;
  app.get('/health', { config: { scope: 'public' }, schema: { tags: ['operations'], summary: 'Liveness and the compute backend in use', response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
    version: VERSION,
    backend: services.backend,
    uptime_s: Math.round((Date.now() - services.startedAt) / 1000),
    queue: services.queue.available ? ('up' as const) : ('down' as const),
  }));

  app.get('/ready', { config: { scope: 'public' }, schema: { tags: ['operations'], summary: 'Readiness: Redis reachable and the model store readable', response: { 200: Ready, 503: Ready } } }, async (_req, reply) => {
    const redis = await services.queue.ping();
    let store: { ok: boolean; detail?: string } = { ok: true };
    try {
      await fs.access(services.config.modelsDir, fs.constants.R_OK | fs.constants.X_OK);
      await fs.readdir(services.config.modelsDir);
    } catch (err) {
      store = { ok: false, detail: (err as Error).message };
    }
    const checks = { redis: redis ? { ok: true } : { ok: false, detail: 'Redis unreachable' }, store };
    const ready = redis && store.ok;
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  app.get('/openapi.yaml', { config: { scope: 'public' }, schema: { tags: ['operations'], summary: 'This API as OpenAPI 3 (YAML)', hide: false, response: { 500: ErrorResponse } } }, async (_req, reply) =>
    reply.type('application/yaml').send(app.swagger({ yaml: true })),
  );
};
