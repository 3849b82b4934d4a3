/**
 * Concurrent WebSocket generation streams against a running server, timed per token (the client
 * side of bench/server.ts and bench/ttft-training.ts). Times are performance.now() in this process.
 */
import WebSocket from 'ws';
import { PROMPT } from './server-process.ts';

export interface StreamResult {
  sentAt: number;
  tokenTimes: number[];
  doneAt: number | null;
  error: string | null;
}

/** Opens `n` sockets (bounded by the deadline); resolves when all are open. */
async function openSockets(url: string, n: number, deadline: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, () => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('socket open timed out')), Math.max(1, deadline - Date.now()));
          ws.once('open', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
      }),
    );
  } catch (err) {
    for (const ws of sockets) ws.terminate();
    throw err;
  }
  return sockets;
}

export interface RoundSpec {
  /** Concurrent streams (one socket each). */
  n: number;
  maxTokens: number;
  timeoutMs: number;
  /** Request ids are `${idPrefix}-${i}`. */
  idPrefix: string;
  model: string;
  /** Seeded sampling (temperature 0.8, seed 1000 + i) instead of greedy. */
  sample?: boolean;
}

/** One round: `n` concurrent streams of `maxTokens` tokens, one per socket, sent together. */
export async function round(wsUrl: string, spec: RoundSpec): Promise<StreamResult[]> {
  const { n, maxTokens, timeoutMs, idPrefix, model: modelName, sample = false } = spec;
  const deadline = Date.now() + timeoutMs;
  const sockets = await openSockets(wsUrl, n, deadline);
  const results: StreamResult[] = sockets.map(() => ({ sentAt: 0, tokenTimes: [], doneAt: null, error: null }));
  try {
    const finished = sockets.map(
      (ws, i) =>
        new Promise<void>((resolve) => {
          const r = results[i]!;
          const timer = setTimeout(() => end('timed out'), Math.max(1, deadline - Date.now()));
          let settled = false;
          const end = (error: string | null) => {
            if (settled) return; // e.g. the close that follows our own terminate() after `done`
            settled = true;
            if (error) r.error ??= error;
            clearTimeout(timer);
            resolve();
          };
          ws.on('message', (data) => {
            const now = performance.now();
            const f = JSON.parse(String(data));
            if (f.type === 'token') r.tokenTimes.push(now);
            else if (f.type === 'done') {
              r.doneAt = now;
              end(null);
            } else if (f.type === 'error') end(`${f.error?.code}: ${f.error?.message}`);
          });
          ws.once('close', () => end('socket closed'));
          ws.on('error', (err) => end(err.message));
        }),
    );
    sockets.forEach((ws, i) => {
      const parameters = sample ? { max_new_tokens: maxTokens, temperature: 0.8, seed: 1000 + i } : { max_new_tokens: maxTokens, do_sample: false };
      const frame = { type: 'generate', id: `${idPrefix}-${i}`, model: modelName, prompt: PROMPT, parameters };
      results[i]!.sentAt = performance.now();
      ws.send(JSON.stringify(frame));
    });
    await Promise.all(finished);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
  return results;
}

/** Nearest-rank percentile of an unsorted list (NaN when empty). */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Time to first token of every stream that got one, ms. */
export function ttfts(results: readonly StreamResult[]): number[] {
  return results.filter((r) => r.tokenTimes.length > 0).map((r) => r.tokenTimes[0]! - r.sentAt);
}
