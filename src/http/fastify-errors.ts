/**
 * Fastify's own rejections in the one error shape. Three ways a request can fail before our code
 * runs, each answered here:
 *   - errors thrown while parsing or routing (bad JSON, body too large, wrong Content-Type) reach
 *     the app's error handler → `fromFastifyError`;
 *   - errors raised before routing (a malformed percent-escape in the path, an over-long path
 *     parameter) reach Fastify's `frameworkErrors` option → `frameworkErrors`;
 *   - a path no route matches → `routeMiss`: 405 `method_not_allowed` with `Allow` when the path
 *     exists under other methods, else 404 `route_not_found`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ServiceError, errorBody, type ErrorCode } from '../errors.ts';

/** Maps Fastify's own errors (parsing, limits, routing) onto the error vocabulary. */
export function fromFastifyError(err: FastifyError): ServiceError {
  const byCode: Record<string, [ErrorCode, string]> = {
    FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'body is not valid JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'body is empty; send a JSON object'],
    FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', `body is larger than the limit for this endpoint`],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', `Content-Type is not accepted here`],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'Content-Length does not match the body'],
  };
  const hit = err.code ? byCode[err.code] : undefined;
  if (hit) return new ServiceError(hit[0], `${hit[1]}${err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `: ${err.message}` : ''}`);
  if (err instanceof SyntaxError) return new ServiceError('invalid_json', `body is not valid JSON: ${err.message}`);
  if (err.statusCode === 413) return new ServiceError('payload_too_large', err.message);
  if (err.statusCode === 415) return new ServiceError('unsupported_media_type', err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ServiceError('invalid_request', err.message);
  return new ServiceError('internal_error', 'internal error');
}

/** Fastify `frameworkErrors`: FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, FST_ERR_ASYNC_CONSTRAINT. */
export function frameworkErrors(maxParamLength: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const path = req.raw.url ?? '';
    const svc =
      err.code === 'FST_ERR_BAD_URL'
        ? new ServiceError('invalid_request', `the path ${JSON.stringify(path.split('?')[0])} is not a valid URL: it has a malformed percent-escape (%XX must encode UTF-8)`)
        : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ServiceError('uri_too_long', `a path parameter of ${JSON.stringify(path.split('?')[0]!.slice(0, 80))}… is longer than ${maxParamLength} characters`)
          : new ServiceError('internal_error', 'internal error');
    if (svc.code === 'internal_error') req.log.error({ err }, 'framework error');
    else req.log.info({ code: svc.code, msg: svc.message }, 'request rejected');
    void reply.code(svc.status).header('x-request-id', req.id).send(svc.toBody());
  };
}

/** `/models/:name` → a regexp matching concrete paths of that route. */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * Records every route (onRoute) and returns the not-found handler: 405 with `Allow` when another
 * method serves the path, else 404. Must be installed before the routes are registered.
 */
export function routeMiss(app: FastifyInstance): (req: FastifyRequest, reply: FastifyReply) => void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    // A catch-all (e.g. a CORS plugin's `OPTIONS *`) says nothing about which paths exist.
    if (route.url === '*' || route.url === '/*') return;
    routes.push({ pattern: routePattern(route.url), methods: ([] as string[]).concat(route.method) });
  });
  return (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort();
    // A route of this method that found nothing (a static file handler's callNotFound) is a 404.
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      void reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(errorBody('method_not_allowed', `${req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`));
      return;
    }
    void reply.code(404).send(errorBody('route_not_found', `no route ${req.method} ${path}`));
  };
}
