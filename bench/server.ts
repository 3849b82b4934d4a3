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
import { PROMPT, arg, serverStats, sleep, startServerProcess, type ServerStats } from './lib/server-process.ts';
import { pct, round, ttfts } from './lib/ws-round.ts';


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
  const warm = await round(wsUrl, { n: 1, maxTokens: 20, timeoutMs: 60000, idPrefix: 'warm', model: modelName, sample });
  if (warm[0]!.error) throw new Error(`warm-up failed: ${warm[0]!.error}`);

  const rows: Array<{ n: number; agg: number; perStream: number; ttft50: number; ttft99: number; itl50: number; itl99: number; before: ServerStats; after: ServerStats; got: number; errors: string[] }> = [];
  for (const n of streamCounts) {
    const before = await serverStats(base);
    const results = await round(wsUrl, { n, maxTokens: tokens, timeoutMs: roundTimeoutMs, idPrefix: `n${n}`, model: modelName, sample });
    await sleep(200); // let the server finish releasing the sockets' state
    const after = await serverStats(base);
    const firstSend = Math.min(...results.map((r) => r.sentAt));
    const lastEnd = Math.max(...results.map((r) => r.doneAt ?? r.tokenTimes.at(-1) ?? r.sentAt));
    const got = results.reduce((a, r) => a + r.tokenTimes.length, 0);
    const ttft = ttfts(results);
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
