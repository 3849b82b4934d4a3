/**
 * Scopes and the principal a request acts as (docs/auth.md, /work/notes auth contract).
 *
 *   infer  generate/summarize/translate/qa/classify/chat, /v1, its own chat sessions, GET /models*
 *   train  datasets, POST /train, its own jobs (list, read, cancel, logs, subscribe)
 *   admin  everything: delete models and datasets, every key's jobs/datasets/sessions, /metrics
 *
 * A route declares the scope it needs in `config.scope`; `public` routes need no key. A principal
 * is null when auth is off (no keys configured): everything is allowed and nothing is filtered.
 */
import { ServiceError } from '../errors.ts';

export const SCOPES = ['infer', 'train', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
/** What a route declares in `config.scope`. */
export type RouteScope = Scope | 'public';
export const ROUTE_SCOPES: readonly RouteScope[] = ['public', ...SCOPES];

/** An authenticated key as the server holds it: never the secret. */
export interface Principal {
  /** The key's name from the key file: what datasets, jobs and sessions record as their owner. */
  name: string;
  scopes: readonly Scope[];
  /** Requests per minute for this key (null = the server-wide RATE_LIMIT_PER_MINUTE per IP). */
  rateLimitPerMinute: number | null;
  /** Requests (HTTP requests and WebSocket generations) in flight at once for this key (null = no cap). */
  maxConcurrent: number | null;
}

/** True when `p` may use a route or frame that needs `scope` (admin holds every scope; null = auth off). */
export function hasScope(p: Principal | null, scope: RouteScope): boolean {
  if (scope === 'public' || p === null) return true;
  return p.scopes.includes('admin') || p.scopes.includes(scope);
}

/** Throws 403 insufficient_scope unless `p` holds `scope`. */
export function requireScope(p: Principal | null, scope: RouteScope, what: string): void {
  if (!hasScope(p, scope)) {
    throw new ServiceError('insufficient_scope', `${what} needs a key with scope "${scope}"${scope === 'admin' ? '' : ' (or admin)'}; key "${p!.name}" has ${p!.scopes.join(', ') || 'no scopes'}`);
  }
}

/**
 * Ownership filter: the owner name a principal is limited to, or null when it sees everything
 * (auth off, or an admin key).
 */
export function ownerFilter(p: Principal | null): string | null {
  return p === null || p.scopes.includes('admin') ? null : p.name;
}

/** The owner a new dataset, job or session records: the key's name, or null with auth off. */
export function ownerOf(p: Principal | null): string | null {
  return p === null ? null : p.name;
}

/** True when a thing owned by `owner` (null = made with auth off) is visible to `p`. */
export function canSee(p: Principal | null, owner: string | null | undefined): boolean {
  const only = ownerFilter(p);
  return only === null || owner === only;
}
