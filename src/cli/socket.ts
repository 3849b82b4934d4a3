/**
 * The CLI's WebSocket client for `/ws` (the `ws` package): one socket, requests by client-chosen id.
 * `request` sends a generate/chat/… frame and resolves with its `done` frame after passing each `token`
 * frame to `onToken`; `subscribe` follows a training job and resolves with the frame that reports its
 * end. An `error` frame rejects the request (or subscription) it names as an ApiError; one naming
 * neither (e.g. `invalid_api_key` before auth) and a closed socket reject everything pending.
 */
import WebSocket from 'ws';
import { ApiError, ConnectionError, toConnectionError, type ApiClient } from './client.ts';

export interface TokenFrame {
  type: 'token';
  id: string;
  index: number;
  text: string;
  token_id: number;
  logprob: number;
}
export interface DoneFrame {
  type: 'done';
  id: string;
  text: string;
  details: Record<string, unknown> & { finish_reason: string; generated_tokens: number; input_tokens: number; model: string; cached_tokens?: number };
}
export interface ProgressFrame {
  type: 'progress';
  job_id: string;
  status: string;
  progress: Record<string, number | string | null> | null;
  error?: string;
  result?: unknown;
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

interface Pending {
  onFrame: (frame: any) => void;
  reject: (err: Error) => void;
}

export class StreamSocket {
  private readonly requests = new Map<string, Pending>();
  private readonly jobs = new Map<string, Pending>();
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly baseUrl: string,
  ) {
    ws.on('message', (data) => this.dispatch(String(data)));
    ws.on('close', () => {
      this.closed = true;
      this.failAll(new ConnectionError(baseUrl, 'the server closed the WebSocket'));
    });
    ws.on('error', (err) => this.failAll(toConnectionError(baseUrl, err) ?? err));
  }

  /** Opens `/ws` with the client's key on the upgrade request. */
  static open(client: ApiClient): Promise<StreamSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(client.wsUrl(), { headers: client.authHeaders() });
      ws.once('open', () => resolve(new StreamSocket(ws, client.baseUrl)));
      ws.once('error', (err) => reject(toConnectionError(client.baseUrl, err) ?? err));
      // A refused upgrade (401, 403, 404 …) carries the server's error body.
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => {
          let json: unknown = body;
          try {
            json = JSON.parse(body);
          } catch {
            /* described as text */
          }
          reject(ApiError.fromBody(json, res.statusCode ?? null));
          ws.terminate();
        });
      });
    });
  }

  /** Sends a token-producing frame (`{type, id, …}`); resolves with its done frame. */
  request(frame: { type: string; id: string } & Record<string, unknown>, onToken: (t: TokenFrame) => void = () => undefined): Promise<DoneFrame> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ConnectionError(this.baseUrl, 'the WebSocket is closed'));
      this.requests.set(frame.id, {
        reject,
        onFrame: (f) => {
          if (f.type === 'token') onToken(f as TokenFrame);
          else if (f.type === 'done') {
            this.requests.delete(frame.id);
            resolve(f as DoneFrame);
          }
        },
      });
      this.ws.send(JSON.stringify(frame));
    });
  }

  /** Asks the server to stop request `id`; its done frame then says finish_reason "cancelled". */
  cancel(id: string): void {
    if (!this.closed && this.requests.has(id)) this.ws.send(JSON.stringify({ type: 'cancel', id }));
  }

  /** Follows job `jobId`: every progress frame to `onProgress`; resolves with the one whose status ended. */
  subscribe(jobId: string, onProgress: (f: ProgressFrame) => void): Promise<ProgressFrame> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ConnectionError(this.baseUrl, 'the WebSocket is closed'));
      this.jobs.set(jobId, {
        reject,
        onFrame: (f) => {
          if (f.type !== 'progress') return;
          onProgress(f as ProgressFrame);
          if (ENDED.has((f as ProgressFrame).status)) {
            this.jobs.delete(jobId);
            resolve(f as ProgressFrame);
          }
        },
      });
      this.ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
    });
  }

  close(): void {
    this.closed = true;
    this.ws.close();
  }

  private dispatch(raw: string): void {
    let frame: any;
    try {
      frame = JSON.parse(raw);
    } catch {
      return this.failAll(new ApiError(`the server sent a frame that is not JSON: ${raw.slice(0, 100)}`, 'bad_response'));
    }
    const byId = typeof frame.id === 'string' ? this.requests.get(frame.id) : undefined;
    const byJob = typeof frame.job_id === 'string' ? this.jobs.get(frame.job_id) : undefined;
    if (frame.type === 'error') {
      const err = ApiError.fromBody(frame, null);
      if (byId) {
        this.requests.delete(frame.id);
        byId.reject(err);
      } else if (byJob) {
        this.jobs.delete(frame.job_id);
        byJob.reject(err);
      } else this.failAll(err);
      return;
    }
    (byId ?? byJob)?.onFrame(frame);
  }

  private failAll(err: Error): void {
    for (const p of [...this.requests.values(), ...this.jobs.values()]) p.reject(err);
    this.requests.clear();
    this.jobs.clear();
  }
}
