/**
 * Serving beside a training job on the same machine: time to first token of concurrent WebSocket
 * streams (64-character prompt, `models/kjv-char`) with the API idle, then with a worker training an
 * LSTM language model at each TRAIN_NICE in --nice, then idle again. The API and the worker are
 * child processes, as `npm start` runs them; the job uses the default settings on ~250 KB of the
 * project's own docs and is cancelled after its rounds (nothing is published).
 *
 *   node --import tsx bench/ttft-training.ts [--nice 0,10] [--streams 8] [--rounds 12] [--tokens 20]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, arg, fetchWithTimeout, sleep, startServerProcess, startWorkerProcess } from './lib/server-process.ts';
import { pct, round, ttfts } from './lib/ws-round.ts';

const niceLevels = arg('nice', '0,10').split(',').map(Number);
const streams = Number(arg('streams', '8'));
const rounds = Number(arg('rounds', '12'));
const tokens = Number(arg('tokens', '20'));
const model = 'kjv-char';

/** Training text: README and docs, up to the inline limit (256 KiB). */
function corpus(): string {
  const files = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'bench/README.md'];
  return files.map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n').slice(0, 250_000);
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** `rounds` rounds of `streams` concurrent streams; TTFTs of all of them (ms). */
async function measure(wsUrl: string, label: string): Promise<number[]> {
  const all: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const results = await round(wsUrl, { n: streams, maxTokens: tokens, timeoutMs: 120000, idPrefix: `${label}-${r}`, model });
    const errors = results.flatMap((x) => (x.error ? [x.error] : []));
    if (errors.length > 0) throw new Error(`${label}: ${errors[0]}`);
    all.push(...ttfts(results));
    await sleep(100);
  }
  return all;
}

const server = await startServerProcess({ tmpPrefix: 'seqserve-ttft', env: { MAX_INLINE_TEXT_BYTES: String(256 * 1024) } });
const rows: { condition: string; p50: number; p99: number; n: number; tokensPerSec?: number | null }[] = [];
let exitCode = 0;
try {
  await measure(server.wsUrl, 'warm');
  const text = corpus();
  const idle = await measure(server.wsUrl, 'idle');
  rows.push({ condition: 'idle', p50: pct(idle, 50), p99: pct(idle, 99), n: idle.length });
  for (const nice of niceLevels) {
    const worker = startWorkerProcess(server, { TRAIN_NICE: String(nice), LOG_LEVEL: 'warn' });
    const job = await post(`${server.base}/train`, { name: `bench-ttft-${nice}`, architecture: 'lstm', dataset: { text }, hyperparameters: { time_budget_s: 900 } });
    if (job.status !== 202) throw new Error(`POST /train: ${job.status} ${JSON.stringify(job.json)}`);
    const jobUrl = `${server.base}/train/${job.json.job_id}`;
    let progress: any = null;
    for (let i = 0; i < 600 && !(progress?.step > 2); i++) {
      progress = ((await (await fetchWithTimeout(jobUrl)).json()) as any).progress;
      await sleep(500);
    }
    if (!(progress?.step > 2)) throw new Error(`the training job did not start:\n${worker.output()}`);
    const busy = await measure(server.wsUrl, `nice${nice}`);
    progress = ((await (await fetchWithTimeout(jobUrl)).json()) as any).progress;
    rows.push({ condition: `training, TRAIN_NICE=${nice}`, p50: pct(busy, 50), p99: pct(busy, 99), n: busy.length, tokensPerSec: progress?.tokens_per_sec ?? null });
    await post(`${jobUrl}/cancel`, {});
    for (let i = 0; i < 120; i++) {
      const status = ((await (await fetchWithTimeout(jobUrl)).json()) as any).status;
      if (status !== 'running' && status !== 'queued' && status !== 'waiting') break;
      await sleep(500);
    }
    await worker.stop();
  }
  const after = await measure(server.wsUrl, 'idle-after');
  rows.push({ condition: 'idle (after)', p50: pct(after, 50), p99: pct(after, 99), n: after.length });
  const ms = (x: number) => x.toFixed(1);
  console.log(`${streams} concurrent streams × ${rounds} rounds, ${tokens} tokens each, model ${model}, greedy; ${os.cpus().length} CPUs; load before ${os.loadavg()[0]!.toFixed(2)}`);
  console.log('');
  console.log('| condition | TTFT p50 (ms) | TTFT p99 (ms) | p50 / idle | p99 / idle | samples | training tokens/s |');
  console.log('|---|---|---|---|---|---|---|');
  const base = rows[0]!;
  for (const r of rows) {
    console.log(`| ${r.condition} | ${ms(r.p50)} | ${ms(r.p99)} | ${(r.p50 / base.p50).toFixed(2)} | ${(r.p99 / base.p99).toFixed(2)} | ${r.n} | ${r.tokensPerSec ?? '–'} |`);
  }
} catch (err) {
  console.error(`bench/ttft-training.ts: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
