/**
 * The playground (static files in src/web/, no build step): `GET /` is its page, `GET /playground/*`
 * its scripts and styles, and `GET /playground/vendor/uplot/*` the uPlot chart library served from
 * node_modules (bundled with the service: the page requests nothing from other hosts). Open without
 * an API key (scope public, see the auth contract) and hidden from the OpenAPI document.
 * Files are sent by @fastify/static (`send`: ETag/Last-Modified, range, no path outside its root).
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

/** src/web/: the page's files. */
export const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));
/** node_modules/uplot/dist: uPlot.esm.js and uPlot.min.css. */
const UPLOT_DIST = path.dirname(createRequire(import.meta.url).resolve('uplot'));

export const webRoutes: FastifyPluginAsync = async (app) => {
  // serve: false: only reply.sendFile, decorated inside this plugin; the routes below are ours.
  await app.register(fastifyStatic, { root: WEB_ROOT, serve: false });
  // Open without a key (auth contract: every route declares its scope). Typed loosely so this file
  // does not depend on where FastifyContextConfig gets its `scope` field.
  const config: Record<string, unknown> = { scope: 'public' };
  const opts = { config, schema: { hide: true } };
  app.get('/', opts, (_req, reply) => reply.sendFile('index.html'));
  app.get<{ Params: { '*': string } }>('/playground/vendor/uplot/*', opts, (req, reply) => reply.sendFile(req.params['*'], UPLOT_DIST));
  app.get<{ Params: { '*': string } }>('/playground/*', opts, (req, reply) => reply.sendFile(req.params['*']));
};
