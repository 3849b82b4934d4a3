/**
 * Seq2Seq decoding speed in-process (wasm), on the shipped demo models:
 *   - stateful greedy, one request at a time (encoder once, one decoder step per token — the serving path);
 *   - the naive baseline that re-runs the decoder over the whole prefix for every new token
 *     (teacher-forced forward on <bos> y₁…y_t), i.e. what "never re-run the prefix" avoids;
 *   - the same requests all at once: greedy requests share batched decoder steps (continuous batching);
 *   - beam search with 4 beams (beams of one request step together against one shared source);
 *   - batched greedy over 64 sources at once (the evaluation path).
 * Ratios are measured in the same run (bench/seq2seq-profile.ts splits the concurrent run into phases).
 * With --rounds k every row is timed k times and the fastest counts (for a shared, noisy machine).
 * Usage: node --import tsx bench/seq2seq.ts [--model numbers-en-fr] [--n 40] [--rounds 1]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { toCardinal } from 'n2words/en-US';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { runSeq2Seq } from '../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../src/infer/params.ts';
import { greedyDecodeBatch } from '../src/tasks/seq2seq-forward.ts';
import { encodeSourceIds } from '../src/tasks/pair-encoding.ts';
import { BOS_ID, EOS_ID } from '../src/tokenize/index.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'numbers-en-fr' }, n: { type: 'string', default: '40' }, rounds: { type: 'string', default: '1' } } });
const n = Number(values.n);
const backend = await initBackend('wasm');
const cache = new ModelCache(new ModelStore(fileURLToPath(new URL('../models', import.meta.url))), 1, 32);
const lease = await cache.acquire(values.model!, 'translate');
const m = lease.model;
const sources = Array.from({ length: n }, (_, i) => toCardinal((i * 7919 + 13) % 99999));
const limits = { maxNewTokens: 256, maxPromptChars: 100000 };
const baseline = tf.memory().numTensors;

async function timed(label: string, run: () => Promise<number>): Promise<number> {
  await run(); // warm-up
  let tokens = 0;
  let s = Infinity;
  for (let round = 0; round < Number(values.rounds); round++) {
    const t0 = performance.now();
    tokens = await run();
    s = Math.min(s, (performance.now() - t0) / 1000);
  }
  console.log(`| ${label} | ${tokens} | ${(tokens / s).toFixed(0)} | ${((s * 1000) / n).toFixed(1)} |`);
  return tokens / s;
}

/** Greedy by re-running the teacher-forced decoder over the whole prefix at every step. */
function rerunGreedy(source: string): number {
  const src = encodeSourceIds(m.tokenizer, { source }, 128).ids;
  const out: number[] = [];
  for (let t = 0; t < 96; t++) {
    const next = tf.tidy(() => {
      const logits = m.s2s.forward(tf.tensor2d(src, [1, src.length], 'int32'), Int32Array.of(src.length), tf.tensor2d([BOS_ID, ...out], [1, out.length + 1], 'int32'));
      return tf.argMax(logits.slice([0, out.length, 0], [1, 1, -1]).reshape([-1])).dataSync()[0]!;
    });
    if (next === EOS_ID) break;
    out.push(next);
  }
  return out.length;
}

console.log(`backend ${backend.name}; model ${m.ref}; ${n} English number words → French\n`);
console.log('| decoding | tokens | tokens/s | ms per request |\n|---|---|---|---|');
const stateful = await timed('stateful greedy, one request at a time (serving path)', async () => {
  let tokens = 0;
  for (const s of sources) tokens += (await runSeq2Seq(m, { source: s }, resolveSeq2SeqParams({}, limits, 96))).details.generated_tokens;
  return tokens;
});
const rerun = await timed('greedy re-running the decoder over the prefix per token (baseline)', async () => sources.reduce((k, s) => k + rerunGreedy(s), 0));
const concurrent = await timed(`all ${n} requests at once (continuous batching, MAX_BATCH_SIZE 32)`, async () => {
  const out = await Promise.all(sources.map((s) => runSeq2Seq(m, { source: s }, resolveSeq2SeqParams({}, limits, 96))));
  return out.reduce((k, r) => k + r.details.generated_tokens, 0);
});
await timed('beam search, 4 beams', async () => {
  let tokens = 0;
  for (const s of sources) tokens += (await runSeq2Seq(m, { source: s }, resolveSeq2SeqParams({ num_beams: 4 }, limits, 96))).details.generated_tokens;
  return tokens;
});
await timed(`batched greedy, all ${n} sources in one batch (evaluation path)`, async () => {
  const ids = await greedyDecodeBatch(m.s2s, sources.map((s) => encodeSourceIds(m.tokenizer, { source: s }, 128).ids), 96);
  return ids.reduce((k, r) => k + r.length, 0);
});
console.log(`\nstateful / re-run = ${(stateful / rerun).toFixed(2)}×; concurrent / one at a time = ${(concurrent / stateful).toFixed(2)}×; tensors ${baseline} → ${tf.memory().numTensors}`);
lease.release();
await cache.clear();
