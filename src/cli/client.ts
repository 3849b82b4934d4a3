/**
 * The CLI's HTTP client: fetch against a seqserve server (`--url`), the key (`--api-key`) as
 * `Authorization: Bearer`. A non-2xx answer becomes an ApiError carrying the server's error shape
 * `{error: {code, message, type, param}}`; an unreachable server becomes a ConnectionError naming the URL.
 */

/** The server's error, as the one wire shape describes it. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** From a parsed `{error: {...}}` body (HTTP or WS error frame); anything else is described as is. */
  static fromBody(body: unknown, status: number | null): ApiError {
    const e = (body as { error?: { code?: unknown; message?: unknown; param?: unknown } } | null)?.error;
    if (e && typeof e.message === 'string') {
      return new ApiError(e.message, typeof e.code === 'string' ? e.code : 'unknown_error', typeof e.param === 'string' ? e.param : null, status);
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return new ApiError(`the server answered ${status ?? ''} ${text.slice(0, 200)}`.replace(/\s+/g, ' ').trim(), status === null ? 'bad_response' : `http_${status}`, null, status);
  }
}

/** The server could not be reached at all (refused, unknown host, reset, closed socket). */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the seqserve server at ${url} (${reason})`);
    this.name = 'ConnectionError';
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_SOCKET: 'connection closed',
};

/** Node's network error code of `err` (fetch wraps it in `cause`, sometimes in an AggregateError). */
export function networkCode(err: unknown): string | undefined {
  for (let e: any = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (typeof e.code === 'string' && e.code in NETWORK_REASONS) return e.code;
    if (Array.isArray(e.errors)) {
      const inner = e.errors.map(networkCode).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

export function toConnectionError(url: string, err: unknown): ConnectionError | undefined {
  const code = networkCode(err);
  if (code) return new ConnectionError(url, NETWORK_REASONS[code]!);
  // fetch's other network failures ("fetch failed": bad port, TLS, …) carry the reason in `cause`.
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  if (err instanceof TypeError && err.message === 'fetch failed') return new ConnectionError(url, typeof cause?.message === 'string' ? cause.message : 'fetch failed');
  return undefined;
}

export interface RawBody {
  data: Buffer;
  contentType: string;
}

export class ApiClient {
  /** `baseUrl` without a trailing slash, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Headers every request carries (and the WebSocket upgrade). */
  authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /** ws(s)://host/ws for this server. */
  wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws`;
  }

  async request<T>(method: string, path: string, body?: unknown, query: Record<string, string | undefined> = {}): Promise<T> {
    const qs = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    const url = `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders() };
    let payload: string | Buffer | undefined;
    if (isRaw(body)) {
      headers['content-type'] = body.contentType;
      payload = body.data;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: payload });
    } catch (err) {
      throw toConnectionError(this.baseUrl, err) ?? err;
    }
    const text = await res.text();
    let json: unknown = text;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      /* not JSON: described as text below */
    }
    if (!res.ok) throw ApiError.fromBody(json, res.status);
    return json as T;
  }

  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  post<T>(path: string, body: unknown = {}, query?: Record<string, string | undefined>): Promise<T> {
    return this.request<T>('POST', path, body, query);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

function isRaw(body: unknown): body is RawBody {
  return typeof body === 'object' && body !== null && Buffer.isBuffer((body as RawBody).data) && typeof (body as RawBody).contentType === 'string';
}
