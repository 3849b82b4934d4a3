/**
 * Soak benchmark: does the API server leak tf.js tensors or memory under sustained streaming load?
 * The server runs as a child process exactly like bench/server.ts (`node --import tsx
 * src/server.ts`, wasm unless TFJS_BACKEND says otherwise, LOG_LEVEL silent, a random QUEUE_PREFIX,
 * a free port on 127.0.0.1, the repo's models/ folder). After one warm-up stream (which loads the
 * model) it reads GET /metrics (the baseline), then runs waves until at least --tokens tokens have
 * arrived. Each wave runs, all at once:
 *   - --streams WebSocket streams (one socket each) of --per-stream tokens, seeded sampling
 *     (temperature 0.8, a different seed per stream and wave); in some waves one of them is
 *     cancelled mid-stream with a `cancel` frame, one carries stop sequences, and every third wave
 *     one socket is closed abruptly mid-stream (the server must cancel its generation);
 *   - --sse Server-Sent-Events streams (POST /generate, "stream": true); every other wave one of
 *     them is aborted mid-stream by the client.
 * /metrics is read after every wave (200 ms after its last stream ended) and at the end (after
 * 1 s). Reported: tensors baseline → end (must not grow), RSS baseline → end and its maximum, total
 * tokens received and aggregate tokens/s (tokens / summed wave wall time).
 *
 *   node --import tsx bench/soak.ts [--tokens 10000] [--streams 8] [--per-stream 250] [--sse 2]
 *                                   [--model kjv-char] [--rss-limit-mb 50] [--time-limit-s 240]
 *
 * Exit code 1 when the tensor count grew, RSS grew by more than --rss-limit-mb, a stream failed
 * unexpectedly (error frame, wrong token count, time-out), or the token target was not reached in
 * time; 2 on bad flags. Every loop is bounded in count and time; only 127.0.0.1 is contacted.
 */
import os from 'node:os';
import WebSocket from 'ws';
import { PROMPT, arg, fetchWithTimeout, serverStats, sleep, startServerProcess, type ServerStats } from './lib/server-process.ts';


const targetTokens = Number(arg('tokens', '10000'));
const streams = Number(arg('streams', '8'));
const perStream = Number(arg('per-stream', '250'));
const sseCount = Number(arg('sse', '2'));
const modelName = arg('model', 'kjv-char');
const rssLimitMb = Number(arg('rss-limit-mb', '50'));
const timeLimitMs = Number(arg('time-limit-s', '240')) * 1000;
const int = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
if (!int(targetTokens, 1, 10_000_000) || !int(streams, 1, 16) || !int(perStream, 20, 1024) || !int(sseCount, 0, 16) || !(rssLimitMb > 0) || !(timeLimitMs > 0)) {
  console.error('usage: bench/soak.ts [--tokens 10000] [--streams 1..16] [--per-stream 20..1024] [--sse 0..16] [--model kjv-char] [--rss-limit-mb 50] [--time-limit-s 240]');
  process.exit(2);
}
// Upper bound on waves even if every stream ended early (stop sequences, cancels): at least 1/4 of
// a wave's nominal tokens must arrive per wave, else the run stops and fails.
const perWaveNominal = (streams + sseCount) * perStream;
const maxWaves = Math.ceil(targetTokens / perWaveNominal) * 4 + 4;
const waveTimeoutMs = 120_000;

const STOP = ['LORD', '\n\n'];
const CANCEL_AFTER = Math.max(1, Math.floor(perStream / 4));





type Kind = 'ws' | 'ws-cancel' | 'ws-stop' | 'ws-drop' | 'sse' | 'sse-abort';
interface StreamResult {
  kind: Kind;
  tokens: number;
  finish: string | null; // finish_reason from the done frame/event; null when none came
  generated: number | null; // details.generated_tokens
  error: string | null; // unexpected failures only
}

/** One WebSocket stream on its own socket. `cancel`: send a cancel frame after CANCEL_AFTER tokens; `drop`: terminate the socket then. */
function wsStream(wsUrl: string, kind: Kind, parameters: object, id: string, deadline: number): Promise<StreamResult> {
  const r: StreamResult = { kind, tokens: 0, finish: null, generated: null, error: null };
  return new Promise<StreamResult>((resolve) => {
    const ws = new WebSocket(wsUrl);
    let settled = false;
    const end = (error: string | null) => {
      if (settled) return;
      settled = true;
      if (error) r.error ??= error;
      clearTimeout(timer);
      ws.terminate();
      resolve(r);
    };
    const timer = setTimeout(() => end('timed out'), Math.max(1, deadline - Date.now()));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'generate', id, model: modelName, prompt: PROMPT, parameters })));
    ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (f.type === 'token') {
        r.tokens++;
        if (r.tokens === CANCEL_AFTER && kind === 'ws-cancel') ws.send(JSON.stringify({ type: 'cancel', id }));
        if (r.tokens === CANCEL_AFTER && kind === 'ws-drop') end(null);
      } else if (f.type === 'done') {
        r.finish = f.details?.finish_reason ?? null;
        r.generated = f.details?.generated_tokens ?? null;
        end(null);
      } else if (f.type === 'error') {
        // A cancel that raced the natural end of the stream is not a failure.
        if (kind === 'ws-cancel' && f.error?.code === 'unknown_request_id') return;
        end(`${f.error?.code}: ${f.error?.message}`);
      }
    });
    ws.once('close', () => end('socket closed'));
    ws.on('error', (err) => end(err.message));
  });
}

/** One SSE stream (POST /generate, stream: true). `sse-abort`: the client aborts after CANCEL_AFTER tokens. */
async function sseStream(base: string, kind: Kind, parameters: object, deadline: number): Promise<StreamResult> {
  const r: StreamResult = { kind, tokens: 0, finish: null, generated: null, error: null };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('timed out')), Math.max(1, deadline - Date.now()));
  let aborted = false;
  try {
    const res = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: modelName, prompt: PROMPT, parameters, stream: true }),
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`POST /generate: HTTP ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buf = '';
    const reader = res.body.getReader();
    for (let chunks = 0; chunks < 1_000_000; chunks++) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'token') {
          r.tokens++;
          if (kind === 'sse-abort' && r.tokens === CANCEL_AFTER) {
            aborted = true;
            abort.abort();
            await reader.cancel().catch(() => {});
            return r;
          }
        } else if (event === 'done') {
          const d = JSON.parse(data ?? '{}');
          r.finish = d.details?.finish_reason ?? null;
          r.generated = d.details?.generated_tokens ?? null;
        } else if (event === 'error') {
          r.error ??= `SSE error event: ${data}`;
        }
      }
    }
    if (r.finish === null) r.error ??= 'SSE stream ended without a done event';
  } catch (err) {
    if (!aborted) r.error ??= (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
  return r;
}

/** Checks a finished stream's result against what its kind should produce; returns an error or null. */
function check(r: StreamResult): string | null {
  if (r.error) return `${r.kind}: ${r.error}`;
  switch (r.kind) {
    case 'ws':
    case 'sse':
      if (r.finish !== 'length' && r.finish !== 'eos') return `${r.kind}: finish_reason ${r.finish}`;
      if (r.generated !== r.tokens) return `${r.kind}: received ${r.tokens} token frames, done says ${r.generated}`;
      if (r.finish === 'length' && r.tokens !== perStream) return `${r.kind}: ${r.tokens} tokens, asked ${perStream}`;
      return null;
    case 'ws-stop':
      if (r.finish !== 'stop_sequence' && r.finish !== 'length' && r.finish !== 'eos') return `${r.kind}: finish_reason ${r.finish}`;
      return null;
    case 'ws-cancel':
      // Cancelled (usual) or already finished when the cancel arrived.
      if (r.finish === null) return `${r.kind}: no done frame`;
      return null;
    case 'ws-drop':
    case 'sse-abort':
      return null;
  }
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

// ---- start the server ------------------------------------------------------------------------
const server = await startServerProcess({
  tmpPrefix: 'seqserve-soak',
  env: {
    MAX_CONCURRENT_GENERATIONS: String(Math.max(256, (streams + sseCount) * 2)),
    MAX_NEW_TOKENS: String(Math.max(1024, perStream)),
  },
});
const { base, wsUrl, health } = server;

let exitCode = 0;
try {

  const boot = await serverStats(base);
  // Warm-up: loads the model into the server's cache and JIT-warms both sides (WS and SSE paths).
  const warm = await Promise.all([
    wsStream(wsUrl, 'ws', { max_new_tokens: 20, do_sample: false }, 'warm', Date.now() + 60000),
    sseStream(base, 'sse', { max_new_tokens: 20, do_sample: false }, Date.now() + 60000),
  ]);
  for (const w of warm) if (w.error) throw new Error(`warm-up failed: ${w.error}`);
  await sleep(500);
  const baseline = await serverStats(base);

  console.log(`backend ${health.backend?.name ?? JSON.stringify(health.backend)}; model ${modelName}; target ${targetTokens} tokens; waves of ${streams} WebSocket + ${sseCount} SSE streams × ${perStream} tokens (seeded sampling, temperature 0.8); prompt ${PROMPT.length} characters; ${os.cpus().length} CPUs`);
  console.log(`server at boot: RSS ${mib(boot.rssBytes)} MiB, ${boot.tensors} tensors; after warm-up (baseline): RSS ${mib(baseline.rssBytes)} MiB, ${baseline.tensors} tensors`);
  console.log('');
  console.log('| wave | streams (ws / sse) | tokens | wave tokens/s | finish reasons | RSS after (MiB) | tensors after | errors |');
  console.log('|---|---|---|---|---|---|---|---|');

  const started = Date.now();
  const samples: ServerStats[] = [baseline];
  const errors: string[] = [];
  let totalTokens = 0;
  let totalWaveMs = 0;
  let wave = 0;
  const kindCounts: Record<string, number> = {};
  for (; wave < maxWaves && totalTokens < targetTokens; wave++) {
    if (Date.now() - started > timeLimitMs) {
      errors.push(`time limit (${timeLimitMs / 1000} s) reached after ${wave} waves`);
      break;
    }
    const deadline = Date.now() + waveTimeoutMs;
    const jobs: Array<Promise<StreamResult>> = [];
    for (let i = 0; i < streams; i++) {
      const seed = 10_000 + wave * 100 + i;
      let kind: Kind = 'ws';
      // Special streams rotate so that most waves carry one cancel and one stop-sequence stream.
      if (streams >= 3) {
        if (i === 0 && wave % 3 !== 2) kind = 'ws-cancel';
        else if (i === 1) kind = 'ws-stop';
        else if (i === 2 && wave % 3 === 2) kind = 'ws-drop';
      }
      const parameters = { max_new_tokens: perStream, temperature: 0.8, seed, do_sample: true, ...(kind === 'ws-stop' ? { stop: STOP } : {}) };
      jobs.push(wsStream(wsUrl, kind, parameters, `w${wave}-s${i}`, deadline));
    }
    for (let j = 0; j < sseCount; j++) {
      const kind: Kind = j === 0 && wave % 2 === 1 ? 'sse-abort' : 'sse';
      const parameters = { max_new_tokens: perStream, temperature: 0.8, seed: 50_000 + wave * 100 + j, do_sample: true };
      jobs.push(sseStream(base, kind, parameters, deadline));
    }
    const t0 = performance.now();
    const results = await Promise.all(jobs);
    const waveMs = performance.now() - t0;
    await sleep(200); // let the server release the streams' state
    const after = await serverStats(base);
    samples.push(after);
    const got = results.reduce((a, r) => a + r.tokens, 0);
    totalTokens += got;
    totalWaveMs += waveMs;
    const waveErrors = results.map(check).filter((e): e is string => e !== null);
    errors.push(...waveErrors.map((e) => `wave ${wave}: ${e}`));
    const finishes: Record<string, number> = {};
    for (const r of results) {
      const f = r.finish ?? (r.kind === 'ws-drop' ? 'dropped' : r.kind === 'sse-abort' ? 'aborted' : 'none');
      finishes[f] = (finishes[f] ?? 0) + 1;
      kindCounts[r.kind] = (kindCounts[r.kind] ?? 0) + 1;
    }
    const fin = Object.entries(finishes).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`| ${wave + 1} | ${streams} / ${sseCount} | ${got} | ${(got / (waveMs / 1000)).toFixed(0)} | ${fin} | ${mib(after.rssBytes)} | ${after.tensors} | ${waveErrors.length ? waveErrors.join('; ') : 'none'} |`);
  }

  await sleep(1000);
  const final = await serverStats(base);
  samples.push(final);
  const maxRss = Math.max(...samples.map((s) => s.rssBytes));
  const maxTensors = Math.max(...samples.map((s) => s.tensors));
  const rssGrowth = final.rssBytes - baseline.rssBytes;
  const tensorsGrew = final.tensors > baseline.tensors;
  const rssTooHigh = rssGrowth > rssLimitMb * 2 ** 20;
  if (totalTokens < targetTokens) errors.push(`only ${totalTokens} of ${targetTokens} tokens after ${wave} waves`);

  console.log('');
  console.log(`streams run: ${Object.entries(kindCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`total tokens ${totalTokens} in ${wave} waves; aggregate ${(totalTokens / (totalWaveMs / 1000)).toFixed(0)} tokens/s (streaming time ${(totalWaveMs / 1000).toFixed(1)} s; wall ${((Date.now() - started) / 1000).toFixed(1)} s incl. metrics pauses)`);
  console.log(`tensors: baseline ${baseline.tensors} → end ${final.tensors} (max seen ${maxTensors}) — ${tensorsGrew ? 'GREW' : 'no growth'}`);
  console.log(`RSS: baseline ${mib(baseline.rssBytes)} MiB → end ${mib(final.rssBytes)} MiB (${rssGrowth >= 0 ? '+' : ''}${mib(rssGrowth)} MiB), max ${mib(maxRss)} MiB (+${mib(maxRss - baseline.rssBytes)} MiB) — limit +${rssLimitMb} MiB: ${rssTooHigh ? 'EXCEEDED' : 'ok'}`);
  if (errors.length) {
    console.log(`errors (${errors.length}):`);
    for (const e of errors.slice(0, 20)) console.log(`  ${e}`);
  }
  if (tensorsGrew || rssTooHigh || errors.length > 0) exitCode = 1;
  console.log(exitCode === 0 ? 'PASS' : 'FAIL');
} catch (err) {
  console.error(`bench/soak.ts: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
