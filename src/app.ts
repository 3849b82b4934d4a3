/**
 * buildApp(config, deps): the Fastify application used by the server and by tests.
 * Order: external plugins → decorators (services) → error handling → encapsulated routes.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import { ServiceError, isServiceError } from './errors.ts';
import { fromFastifyError, frameworkErrors, routeMiss } from './http/fastify-errors.ts';
import { wsErrorHandler } from './stream/ws-errors.ts';
import { NoQuery } from './schemas/common.ts';
import { fastifyValidatorCompiler } from './schemas/validate.ts';
import { ModelStore } from './store/registry.ts';
import { DatasetStore } from './train/datasets.ts';
import { ModelCache } from './infer/model-cache.ts';
import { InferenceService } from './infer/service.ts';
import { ServiceMetrics } from './infer/metrics.ts';
import { TrainingQueue } from './queue/training-queue.ts';
import type { BackendInfo } from './backend/select.ts';
import { healthRoutes } from './http/health.ts';
import { metricsRoutes } from './http/metrics.ts';
import { datasetRoutes } from './http/datasets.ts';
import { trainRoutes } from './http/train.ts';
import { modelRoutes } from './http/models.ts';
import { generateRoutes } from './http/generate.ts';
import { seq2seqRoutes } from './http/seq2seq.ts';
import { wsRoutes } from './stream/ws.ts';
import { openaiRoutes } from './http/v1/routes.ts';
import { sessionRoutes } from './http/sessions.ts';
import { webRoutes } from './http/web.ts';
import { OPENAPI_INFO } from './schemas/openapi-info.ts';
import { KeyStore } from './auth/key-store.ts';
import { KeyConcurrency } from './auth/concurrency.ts';
import { installAuth } from './http/auth.ts';
import { installCors } from './http/cors.ts';

export interface AppServices {
  config: Config;
  backend: BackendInfo;
  store: ModelStore;
  datasets: DatasetStore;
  cache: ModelCache;
  inference: InferenceService;
  queue: TrainingQueue;
  metrics: ServiceMetrics;
  /** API keys (hashes only); `keys.enabled` false = auth off. */
  keys: KeyStore;
  /** Per-key in-flight counts (max_concurrent). */
  concurrency: KeyConcurrency;
  startedAt: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
  }
}

export type App = FastifyInstance;

/** Longest path parameter (model names are at most 64 characters, version refs a few more). */
const MAX_PARAM_LENGTH = 100;

export async function buildApp(config: Config, backend: BackendInfo, overrides: Partial<AppServices> = {}): Promise<App> {
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.maxBodyBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // On close: stop accepting, drop idle keep-alive sockets, let in-flight requests finish
    // (the process exits anyway after SHUTDOWN_TIMEOUT_MS).
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Malformed percent-escapes and over-long path parameters, rejected before routing.
    frameworkErrors: frameworkErrors(MAX_PARAM_LENGTH),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(fastifyValidatorCompiler as never);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // Responses finishing during shutdown close their keep-alive connection, so close() can complete.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    services.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    services.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  // Keys first: a bad key file fails the build before anything holds a connection.
  const keys = overrides.keys ?? new KeyStore({ file: config.apiKeysFile, env: config.apiKeys }, app.log);
  const store = overrides.store ?? new ModelStore(config.modelsDir);
  const cache = overrides.cache ?? new ModelCache(store, config.modelCacheSize, config.maxBatchSize);
  let inference: InferenceService | undefined;
  const metrics = new ServiceMetrics({
    inFlight: () => inference?.inFlight ?? 0,
    loadedModels: () => cache.size,
    chatSessions: () => ({ count: inference?.sessions.size ?? 0, bytes: inference?.sessions.totalBytes ?? 0 }),
  });
  inference = overrides.inference ?? new InferenceService(cache, config, metrics);
  const services: AppServices = {
    config,
    backend,
    store,
    datasets: overrides.datasets ?? new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes }),
    cache,
    inference,
    metrics,
    queue: overrides.queue ?? new TrainingQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix, attempts: config.jobAttempts }),
    keys,
    concurrency: new KeyConcurrency(),
    startedAt: Date.now(),
  };
  app.decorate('services', services);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const svc = isServiceError(err) ? err : fromFastifyError(err);
    if (svc.status >= 500 && svc.code === 'internal_error') req.log.error({ err }, 'unhandled error');
    else req.log.info({ code: svc.code, msg: svc.message }, 'request rejected');
    void reply.code(svc.status).headers(svc.headers).send(svc.toBody());
  });
  app.setNotFoundHandler(routeMiss(app));
  // API routes (those with a documented schema) that declare no query parameters refuse any
  // (400 naming it), as unknown body fields are refused; plugins' static and hidden routes are left alone.
  app.addHook('onRoute', (route) => {
    if (route.schema && !route.schema.hide && !route.schema.querystring) route.schema = { ...route.schema, querystring: NoQuery };
  });

  // Frames over MAX_WS_FRAME_BYTES get an error frame (the socket stays open); only frames over this
  // hard cap (4× the limit, at least 1 MiB) make the ws library close the socket with 1009.
  await app.register(websocket, { options: { maxPayload: Math.max(4 * config.maxWsFrameBytes, 1024 * 1024) }, errorHandler: wsErrorHandler });
  // (Before auth: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.)
  // CORS first (its headers also go on 401/403), then auth (its onRoute check must see every route).
  await installCors(app, config.corsOrigins);
  await installAuth(app, config, services.keys, services.concurrency);
  services.keys.watch();

  await app.register(swagger, {
    openapi: OPENAPI_INFO,
    // Components are named by the schemas' $id (GenerateRequest, Job, …), not def-0, def-1.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(datasetRoutes);
  await app.register(trainRoutes);
  await app.register(modelRoutes);
  await app.register(generateRoutes);
  await app.register(seq2seqRoutes);
  await app.register(wsRoutes);
  await app.register(openaiRoutes, { prefix: '/v1' });
  await app.register(sessionRoutes);
  await app.register(webRoutes);

  app.addHook('onClose', async () => {
    services.keys.close();
    await services.queue.close();
    services.inference.sessions.clear();
    await services.cache.clear();
  });
  return app;
}
