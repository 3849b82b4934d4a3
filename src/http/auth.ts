/**
 * The auth hook (docs/auth.md). Every route declares `config: { scope: 'public'|'infer'|'train'|'admin' }`;
 * a route without one needs `admin` (fail closed). With keys configured, each request's key
 * (`Authorization: Bearer <key>` or `x-api-key: <key>`) is looked up by hash:
 *   no key on a non-public route, or an unknown/malformed key anywhere → 401 invalid_api_key;
 *   a key without the route's scope → 403 insufficient_scope;
 *   then the key's concurrency cap (max_concurrent) and rate limit (rate_limit_per_minute, via
 *   @fastify/rate-limit keyed by key name) → 429 rate_limited with Retry-After.
 * `req.auth` is the principal (null: auth off, or no key on a public route). CORS preflight
 * (OPTIONS) never needs a key. With no keys configured nothing is checked, as before.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { ServiceError } from '../errors.ts';
import type { Config } from '../config.ts';
import type { KeyStore } from '../auth/key-store.ts';
import type { KeyConcurrency } from '../auth/concurrency.ts';
import { ROUTE_SCOPES, requireScope, type Principal, type RouteScope } from '../auth/scopes.ts';
import { invalidKey, presentedKey } from '../auth/credentials.ts';

/** One registered route and the scope it declared (undefined = none: needs admin). */
export interface RouteScopeEntry {
  methods: string[];
  url: string;
  scope: RouteScope | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after installAuth, with its declared scope (tests enumerate it). */
    routeScopes: RouteScopeEntry[];
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route (docs/auth.md); absent = admin. */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** The key this request carries; null when auth is off or a public route was called without a key. */
    auth: Principal | null;
  }
}

/** Routes that plugins register (swagger-ui's /docs pages, @fastify/cors's OPTIONS *): open by contract. */
function pluginRouteScope(route: RouteOptions): RouteScope | undefined {
  if (route.url === '/docs' || route.url.startsWith('/docs/')) return 'public';
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (methods.length === 1 && methods[0] === 'OPTIONS' && route.url === '*') return 'public';
  return undefined;
}

/** The scope a matched route needs: its declared one, or admin (fail closed). */
export function routeScope(req: FastifyRequest): RouteScope {
  return req.routeOptions.config?.scope ?? 'admin';
}

/**
 * Installs the onRoute check (declared scopes are valid), the auth hook and the rate limits on the
 * root instance. Call before any route is registered.
 */
export async function installAuth(app: FastifyInstance, config: Config, keys: KeyStore, concurrency: KeyConcurrency): Promise<void> {
  app.decorateRequest('auth', null);
  const table: RouteScopeEntry[] = [];
  app.decorate('routeScopes', table);
  const releases = new WeakMap<FastifyRequest, () => void>();

  app.addHook('onRoute', (route) => {
    const fallback = pluginRouteScope(route);
    if (route.config?.scope === undefined && fallback) route.config = { ...route.config, scope: fallback };
    const scope = route.config?.scope;
    if (scope !== undefined && !ROUTE_SCOPES.includes(scope)) throw new Error(`route ${route.url}: config.scope must be one of ${ROUTE_SCOPES.join(', ')}, got ${String(scope)}`);
    // Public routes need no key in the OpenAPI document either (the others use the global security).
    if (scope === 'public' && route.schema) route.schema = { ...route.schema, security: [] };
    table.push({ methods: Array.isArray(route.method) ? [...route.method] : [route.method], url: route.url, scope });
  });

  app.addHook('onRequest', async (req) => {
    if (!keys.enabled || req.method === 'OPTIONS') return;
    const matched = req.routeOptions.url !== undefined;
    const scope = routeScope(req);
    const presented = presentedKey(req.headers);
    if (presented === undefined && matched && scope === 'public') return;
    const principal = presented === undefined ? undefined : keys.lookup(presented);
    if (!principal) throw invalidKey(presented);
    req.auth = principal;
    // An unmatched URL answers 404 to any valid key; it needs no scope.
    if (!matched || scope === 'public') return;
    requireScope(principal, scope, `${req.method} ${req.routeOptions.url}`);
    releases.set(req, concurrency.acquire(principal));
  });
  const release = async (req: FastifyRequest) => {
    releases.get(req)?.();
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);

  // One rate limiter: per key (its rate_limit_per_minute) when the request carries a key that has
  // one, else per client IP (RATE_LIMIT_PER_MINUTE). Registered whenever either can apply, since
  // keys are reloaded at run time.
  if (config.rateLimitPerMinute > 0 || keys.enabled) {
    const limitOf = (req: FastifyRequest): number => req.auth?.rateLimitPerMinute ?? config.rateLimitPerMinute;
    await app.register(rateLimit, {
      timeWindow: 60_000,
      keyGenerator: (req) => (req.auth?.rateLimitPerMinute ? `key:${req.auth.name}` : `ip:${req.ip}`),
      max: (req) => limitOf(req),
      allowList: (req) => limitOf(req) === 0 || ['/health', '/ready', '/metrics'].includes(req.url.split('?')[0]!),
      errorResponseBuilder: (req, ctx) => {
        const retry = String(Math.max(1, Math.ceil(ctx.ttl / 1000)));
        const who = req.auth?.rateLimitPerMinute ? `key "${req.auth.name}" (rate_limit_per_minute in its key entry)` : 'this client (RATE_LIMIT_PER_MINUTE)';
        return new ServiceError('rate_limited', `more than ${ctx.max} requests per minute from ${who}; retry in ${retry} s`, { headers: { 'retry-after': retry } });
      },
    });
  }
}
