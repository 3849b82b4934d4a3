/**
 * WebSocket token streaming through the real API server under concurrent load. The server runs as
 * a child process (`node --import tsx src/server.ts`, so the client load does not share its event
 * loop) on 127.0.0.1 over the repo's models/ folder; for each N, N `ws` clients (one socket each)
 * send one generate frame at once and record every token frame's arrival. Reported per N:
 * aggregate tokens/s (all tokens / first send → last done), time to first token and inter-token
 * latency p50/p99 (client-side, pooled over all streams), and the server's RSS and live tf.js
 * tensors from GET /metrics before and after the round. Absolute figures depend on the machine.
 *
 *   node --import tsx bench/server.ts [--streams 1,8,32,128] [--tokens 200] [--model kjv-char]
 *                                     [--sample] [--round-timeout-s 300]
 *
 * Greedy decoding by default; --sample uses seeded sampling (temperature 0.8, seed per stream).
 * TFJS_BACKEND is passed to the server (default wasm, as in the tests and bench/generate.ts).
 */
import os from 'node:os';
import WebSocket from 'ws';
import { PROMPT, arg, fetchWithTimeout, serverStats, sleep, startServerProcess, type ServerStats } from './lib/server-process.ts';


const streamCounts = arg('streams', '1,8,32,128')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const tokens = Number(arg('tokens', '200'));
const modelName = arg('model', 'kjv-char');
const sample = process.argv.includes('--sample');
const roundTimeoutMs = Number(arg('round-timeout-s', '300')) * 1000;
if (streamCounts.length === 0 || !Number.isInteger(tokens) || tokens < 1 || tokens > 1024) {
  console.error('usage: bench/server.ts [--streams 1,8,32,128] [--tokens 1..1024] [--model kjv-char] [--sample] [--round-timeout-s 300]');
  process.exit(2);
}
const maxStreams = Math.max(...streamCounts);





interface StreamResult {
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

/** One round: `n` concurrent streams of `tokens` tokens, one per socket. */
async function round(wsUrl: string, n: number, maxTokens: number, timeoutMs: number, idPrefix: string): Promise<StreamResult[]> {
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
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const mib = (b: number) => (b / 2 ** 20).toFixed(0);

// ---- start the server ------------------------------------------------------------------------
const server = await startServerProcess({
  tmpPrefix: 'seqserve-bench',
  env: {
    MAX_CONCURRENT_GENERATIONS: String(Math.max(256, maxStreams * 2)),
    MAX_NEW_TOKENS: String(Math.max(1024, tokens)),
  },
});
const { base, wsUrl, health } = server;

let exitCode = 0;
try {

  // Warm-up: loads the model into the server's cache and JIT-warms both sides.
  const warm = await round(wsUrl, 1, 20, 60000, 'warm');
  if (warm[0]!.error) throw new Error(`warm-up failed: ${warm[0]!.error}`);

  const rows: Array<{ n: number; agg: number; perStream: number; ttft50: number; ttft99: number; itl50: number; itl99: number; before: ServerStats; after: ServerStats; got: number; errors: string[] }> = [];
  for (const n of streamCounts) {
    const before = await serverStats(base);
    const results = await round(wsUrl, n, tokens, roundTimeoutMs, `n${n}`);
    await sleep(200); // let the server finish releasing the sockets' state
    const after = await serverStats(base);
    const firstSend = Math.min(...results.map((r) => r.sentAt));
    const lastEnd = Math.max(...results.map((r) => r.doneAt ?? r.tokenTimes.at(-1) ?? r.sentAt));
    const got = results.reduce((a, r) => a + r.tokenTimes.length, 0);
    const ttft = results.filter((r) => r.tokenTimes.length > 0).map((r) => r.tokenTimes[0]! - r.sentAt);
    const itl: number[] = [];
    for (const r of results) for (let i = 1; i < r.tokenTimes.length; i++) itl.push(r.tokenTimes[i]! - r.tokenTimes[i - 1]!);
    const perStream = results
      .filter((r) => r.tokenTimes.length > 1)
      .map((r) => r.tokenTimes.length / (((r.doneAt ?? r.tokenTimes.at(-1)!) - r.sentAt) / 1000));
    rows.push({
      n,
      agg: got / ((lastEnd - firstSend) / 1000),
      perStream: pct(perStream, 50),
      ttft50: pct(ttft, 50),
      ttft99: pct(ttft, 99),
      itl50: pct(itl, 50),
      itl99: pct(itl, 99),
      before,
      after,
      got,
      errors: [...new Set(results.flatMap((r) => (r.error ? [r.error] : [])))],
    });
    if (rows.at(-1)!.errors.length > 0) exitCode = 1;
  }

  console.log(`backend ${health.backend?.name ?? JSON.stringify(health.backend)}; model ${modelName}; ${tokens} tokens per stream, ${sample ? 'seeded sampling (temperature 0.8)' : 'greedy'}; prompt ${PROMPT.length} characters; one socket per stream; server in a child process; ${os.cpus().length} CPUs`);
  console.log('');
  console.log('| streams | tokens received | aggregate tokens/s | per-stream tokens/s (median) | TTFT p50 / p99 (ms) | inter-token p50 / p99 (ms) | server RSS before → after (MiB) | tf.js tensors before → after | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${r.got} / ${r.n * tokens} | ${r.agg.toFixed(0)} | ${r.perStream.toFixed(0)} | ${ms(r.ttft50)} / ${ms(r.ttft99)} | ${ms(r.itl50)} / ${ms(r.itl99)} | ${mib(r.before.rssBytes)} → ${mib(r.after.rssBytes)} | ${r.before.tensors} → ${r.after.tensors} | ${r.errors.length ? r.errors.join('; ') : 'none'} |`,
    );
  }
  const a1 = rows.find((r) => r.n === 1);
  const a32 = rows.find((r) => r.n === 32);
  console.log('');
  console.log(a1 && a32 ? `aggregate(32) / aggregate(1) = ${(a32.agg / a1.agg).toFixed(2)}` : 'aggregate(32) / aggregate(1): needs --streams to include 1 and 32');
} catch (err) {
  console.error(`bench/server.ts: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
