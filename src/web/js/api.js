// The page's two ways to the server: `api()` for HTTP (JSON in, JSON out, the one error shape turned
// into ApiError) and one shared WebSocket to /ws (`socket`) for token streams and job progress.
// With an API key (kept in sessionStorage), fetches send `Authorization: Bearer <key>` and the socket
// sends `{"type":"auth","api_key":…}` as its first frame (browsers cannot set upgrade headers).

const KEY_STORAGE = 'seqserve.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? '',
  set(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
    socket.reconnect();
  },
};

/** An error answered by the server: `code`, `message`, `param` of `{"error": {…}}`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? 'http_error';
    this.param = error?.param ?? null;
  }
}

/** Calls the API at `path`; `json` is sent as a JSON body, `body` as is (with its content type). */
export async function api(path, { method = 'GET', json, body, contentType, signal } = {}) {
  const headers = {};
  const key = apiKey.get();
  if (key) headers.authorization = `Bearer ${key}`;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) headers['content-type'] = contentType;
  const res = await fetch(path, { method, headers, body, signal });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiError(res.status, data && typeof data === 'object' ? data.error : undefined);
  return data;
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/**
 * One WebSocket for the whole page. Requests are keyed by a client id ("r1", "r2", …): their token,
 * done and error frames go to the handlers given to `request`. Job subscriptions are keyed by job
 * id; after a reconnect they are sent again (the server answers with the job's current state).
 */
class Socket {
  #ws = null;
  #opening = null;
  #requests = new Map();
  #jobs = new Map();
  #seq = 0;
  #retry = null;
  /** Called with an error frame that names no request or job. */
  onStrayError = () => undefined;

  #url() {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  }

  /** Resolves once the socket is open (and authenticated, with a key). */
  open() {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) return Promise.resolve();
    if (this.#opening) return this.#opening;
    this.#opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#url());
      let authWait = null;
      ws.onopen = () => {
        const key = apiKey.get();
        if (!key) return ready();
        authWait = { resolve: ready, reject: fail };
        ws.send(JSON.stringify({ type: 'auth', api_key: key }));
      };
      const ready = () => {
        authWait = null;
        this.#ws = ws;
        this.#opening = null;
        for (const jobId of this.#jobs.keys()) ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
        resolve();
      };
      const fail = (err) => {
        this.#opening = null;
        ws.close();
        reject(err);
      };
      ws.onmessage = (e) => {
        const frame = JSON.parse(e.data);
        if (authWait) {
          if (frame.type === 'authenticated') return authWait.resolve();
          // A server without keys does not know the auth frame: the socket is usable as it is.
          if (frame.type === 'error' && frame.error?.code === 'unknown_frame_type') return authWait.resolve();
          if (frame.type === 'error') return authWait.reject(new ApiError(401, frame.error));
        }
        this.#dispatch(frame);
      };
      ws.onerror = () => {
        if (this.#opening) fail(new Error('cannot connect to the WebSocket /ws'));
      };
      ws.onclose = () => {
        if (this.#ws === ws) this.#ws = null;
        for (const [id, h] of this.#requests) h.onError?.(new Error('the connection to the server closed'), id);
        this.#requests.clear();
        if (this.#jobs.size > 0) this.#scheduleReconnect();
      };
    });
    return this.#opening;
  }

  #scheduleReconnect() {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.open().catch(() => this.#scheduleReconnect());
    }, 1000);
  }

  /** Closes and reopens (a new key); subscriptions are kept. */
  reconnect() {
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
    if (this.#jobs.size > 0) this.#scheduleReconnect();
  }

  #dispatch(frame) {
    if (frame.type === 'progress') {
      const h = this.#jobs.get(frame.job_id);
      if (ENDED.has(frame.status)) this.#jobs.delete(frame.job_id);
      h?.(frame);
      return;
    }
    if (frame.id !== undefined) {
      const h = this.#requests.get(frame.id);
      if (!h) return;
      if (frame.type === 'token') h.onToken?.(frame);
      else if (frame.type === 'done') {
        this.#requests.delete(frame.id);
        h.onDone?.(frame);
      } else if (frame.type === 'error') {
        this.#requests.delete(frame.id);
        h.onError?.(new ApiError(0, frame.error), frame.id);
      }
      return;
    }
    if (frame.type === 'error' && frame.job_id !== undefined) {
      const h = this.#jobs.get(frame.job_id);
      this.#jobs.delete(frame.job_id);
      if (h) h({ type: 'error', job_id: frame.job_id, error: frame.error });
      return;
    }
    if (frame.type === 'error') this.onStrayError(new ApiError(0, frame.error));
  }

  /**
   * Sends a token-producing frame (generate, chat, summarize, translate, qa) under a new id.
   * Returns `{id, cancel}`; `cancel` sends a cancel frame (the server ends with finish_reason cancelled).
   */
  async request(frame, handlers) {
    await this.open();
    const id = `r${++this.#seq}`;
    this.#requests.set(id, handlers);
    this.#ws.send(JSON.stringify({ ...frame, id }));
    return {
      id,
      cancel: () => {
        if (this.#requests.has(id) && this.#ws) this.#ws.send(JSON.stringify({ type: 'cancel', id }));
      },
    };
  }

  /** Follows job `jobId`: `onFrame` gets every progress frame until the job ends (or an error frame). */
  async subscribe(jobId, onFrame) {
    this.#jobs.set(jobId, onFrame);
    await this.open();
    this.#ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
    return () => this.#jobs.delete(jobId);
  }
}

export const socket = new Socket();
