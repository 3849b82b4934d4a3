/** Reading a key off a request (HTTP or the WebSocket upgrade) and the 401 for a missing or bad one. */
import type { IncomingHttpHeaders } from 'node:http';
import { ServiceError } from '../errors.ts';

/** The key a request presents: undefined when it sends none, '' when the Authorization header is not `Bearer <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authz = headers.authorization;
  if (typeof authz === 'string' && authz !== '') {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authz);
    return m ? m[1]! : '';
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x !== '') return x.trim();
  return undefined;
}

/** 401 for a missing (`undefined`) or unknown key. */
export function invalidKey(presented: string | undefined): ServiceError {
  const message =
    presented === undefined
      ? 'an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`'
      : presented === ''
        ? 'Authorization must be `Bearer <key>`'
        : 'the API key is not valid (unknown, revoked or malformed)';
  return new ServiceError('invalid_api_key', message, { headers: { 'www-authenticate': 'Bearer' } });
}
