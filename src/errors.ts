/**
 * The single error vocabulary of seqserve. Every failure that reaches a client (HTTP body, SSE
 * event, WebSocket frame, `/v1`) has the shape `{"error": {"code", "message", "type", "param"}}`;
 * `code` is stable and machine-readable, `message` names the field and the limit, `type` groups
 * codes for clients, `param` is the offending request field (`parameters.top_p`, `messages[2].role`)
 * or null — OpenAI's error shape, so the OpenAI-compatible routes need no second one.
 * ERROR_CODES is the one table that maps a code to its HTTP status and type.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_model_name: { status: 400, type: 'invalid_request_error' },
  invalid_dataset: { status: 400, type: 'invalid_request_error' },
  dataset_too_small: { status: 400, type: 'invalid_request_error' },
  unknown_frame_type: { status: 400, type: 'invalid_request_error' },
  unknown_request_id: { status: 400, type: 'invalid_request_error' },
  model_task_mismatch: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  insufficient_scope: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  session_not_found: { status: 404, type: 'not_found_error' },
  session_expired: { status: 410, type: 'invalid_request_error' },
  session_busy: { status: 409, type: 'conflict_error' },
  version_not_found: { status: 404, type: 'not_found_error' },
  dataset_not_found: { status: 404, type: 'not_found_error' },
  job_not_found: { status: 404, type: 'not_found_error' },
  route_not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  job_not_cancellable: { status: 409, type: 'conflict_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  uri_too_long: { status: 414, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  upgrade_required: { status: 426, type: 'invalid_request_error' },
  overloaded: { status: 429, type: 'overloaded_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  cancelled: { status: 499, type: 'cancelled_error' },
  internal_error: { status: 500, type: 'server_error' },
  queue_unavailable: { status: 503, type: 'unavailable_error' },
  not_ready: { status: 503, type: 'unavailable_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Wire shape of every error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; type: string; param: string | null };
}

export interface ServiceErrorOptions {
  /** The offending request field (dotted path, `[i]` for array items), or null when none. */
  param?: string | null;
  /** Extra response headers (e.g. Retry-After for `overloaded`). */
  headers?: Record<string, string>;
}

/** An error meant for the client: thrown anywhere, rendered once by the HTTP / WS layers. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  /** Extra response headers (e.g. Retry-After for `overloaded`). */
  readonly headers: Record<string, string>;
  /** The offending request field, or null. */
  readonly param: string | null;

  constructor(code: ErrorCode, message: string, opts: ServiceErrorOptions = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.headers = opts.headers ?? {};
    this.param = opts.param ?? null;
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.param);
  }
}

/** Builds the wire body for any code without throwing. */
export function errorBody(code: ErrorCode, message: string, param: string | null = null): ErrorBody {
  return { error: { code, message, type: ERROR_CODES[code].type, param } };
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}
