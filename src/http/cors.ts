/**
 * CORS (CORS_ORIGINS): off when empty; `*` allows any origin; else a comma-separated list of exact
 * origins. Uses @fastify/cors, whose onRequest hook answers preflight (OPTIONS) before the auth
 * hook sees it, so a browser's preflight never needs a key. Register before installAuth so that
 * 401/403 answers carry the CORS headers too (a browser can then read the error body).
 */
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';

export function corsOrigins(value: string): true | string[] | undefined {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) return undefined;
  return list.includes('*') ? true : list;
}

export async function installCors(app: FastifyInstance, value: string): Promise<void> {
  const origin = corsOrigins(value);
  if (origin === undefined) return;
  await app.register(cors, {
    origin,
    methods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'location'],
    maxAge: 600,
  });
}
