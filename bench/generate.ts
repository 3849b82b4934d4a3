/**
 * Generation throughput in-process on a shipped model (default models/kjv-char): stateful decoding
 * (prefill once, one recurrent step per token) against the classic baseline that re-runs a 64-token
 * window per generated token. Ratios are measured in one run; absolute figures depend on the load.
 *
 * Also stateful greedy decoding of --batch rows at once in-process (the batcher's step, no server),
 * and, with --torch, the same two measurements of PyTorch (bench/torch_generate.py, one thread as
 * tf.js wasm, same sizes) run by this command, with the ratios.
 *
 *   node --import tsx bench/generate.ts [--model kjv-char] [--tokens 400] [--runs 3] [--batch 32] [--torch]
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { generateText } from '../src/infer/generate.ts';
import { resolveParams } from '../src/infer/params.ts';
import { RecurrentLanguageModel, disposeState } from '../src/arch/lm-step.ts';
import { BOS_ID } from '../src/tokenize/index.ts';
import { createSampler } from '../src/decode/sampler.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const modelName = arg('model', 'kjv-char');
const tokens = Number(arg('tokens', '400'));
const runs = Number(arg('runs', '3'));
const batch = Number(arg('batch', '32'));
const withTorch = process.argv.includes('--torch');

const backend = await initBackend((process.env.TFJS_BACKEND as 'wasm') ?? 'wasm');
const cache = new ModelCache(new ModelStore(process.env.MODELS_DIR ?? 'models'), 1);
const lease = await cache.acquire(modelName);
const model = lease.model;
const prompt = 'And God said unto Moses, Go in unto Pharaoh, and tell him, Let my people go';
const params = resolveParams({ max_new_tokens: tokens, do_sample: false }, { maxNewTokens: tokens, maxPromptChars: 1000 });

async function stateful(): Promise<number> {
  const t0 = performance.now();
  const out = await generateText(model, prompt, params);
  return out.details.generated_tokens / ((performance.now() - t0) / 1000);
}

/** Baseline: every token re-runs the last 64 ids from a zero state (what the tf.js text-generation example does). */
async function windowRerun(n: number): Promise<number> {
  const ids = [BOS_ID, ...model.tokenizer.encode(prompt)];
  const sampler = createSampler(params);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (!(model.lm instanceof RecurrentLanguageModel)) throw new Error('this bench steps a recurrent model (bench/gpt.ts covers the Transformer)');
    const { state, logits } = await model.lm.prefill(ids.slice(-64));
    const row = (await logits.data()) as Float32Array;
    disposeState(state);
    logits.dispose();
    ids.push(sampler.next(row, ids).id);
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Greedy stateful decoding of `batch` rows in lock-step (what the continuous batcher does per step), tokens/s summed over rows. */
async function batched(n: number): Promise<number> {
  if (!(model.lm instanceof RecurrentLanguageModel)) throw new Error('this bench steps a recurrent model');
  const lm = model.lm;
  let state = lm.initialState(batch);
  let ids: Int32Array = new Int32Array(batch);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { state: next, logits } = lm.step(ids, state);
    disposeState(state);
    state = next;
    const best = tf.tidy(() => tf.argMax(logits, 1));
    ids = (await best.data()) as Int32Array;
    tf.dispose([best, logits]);
  }
  disposeState(state);
  return (batch * n) / ((performance.now() - t0) / 1000);
}

await stateful(); // warm-up
await batched(20);
const before = tf.memory().numTensors;
const results: { stateful: number; window: number }[] = [];
const batchedRuns: number[] = [];
for (let r = 0; r < runs; r++) {
  results.push({ stateful: await stateful(), window: await windowRerun(Math.min(tokens, 100)) });
  batchedRuns.push(await batched(tokens));
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = median(results.map((r) => r.stateful));
const w = median(results.map((r) => r.window));
console.log(`backend ${backend.name}; model ${model.ref} (${model.manifest.architecture}, ${JSON.stringify(model.manifest.hyperparameters.units)} units)`);
console.log('| decoding, batch 1 | tokens/s (median of ' + runs + ') |');
console.log('|---|---|');
console.log(`| stateful (prefill once, one step per token) | ${s.toFixed(0)} |`);
console.log(`| window re-run (64 tokens per generated token) | ${w.toFixed(0)} |`);
console.log(`| ratio | ${(s / w).toFixed(1)}× |`);
const bt = median(batchedRuns);
console.log(`| stateful, batch ${batch} in lock-step (tokens summed over rows) | ${bt.toFixed(0)} |`);
if (withTorch) {
  const units = String(model.manifest.hyperparameters.units ?? 256);
  const r = spawnSync('/usr/bin/python3', ['bench/torch_generate.py', '--vocab', String(model.tokenizer.vocabSize), '--units', units, '--batches', `1,${batch}`, '--tokens', String(tokens), '--threads', '1'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`PyTorch reference failed: ${r.stderr.slice(-500)}`);
  } else {
    const torch = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { torch: string; tokensPerSec: Record<string, number> };
    const t1 = torch.tokensPerSec['1']!, tb = torch.tokensPerSec[String(batch)]!;
    console.log(`| PyTorch ${torch.torch} (1 thread), batch 1 | ${t1} |`);
    console.log(`| PyTorch, batch ${batch} | ${tb} |`);
    console.log(`| ours / PyTorch, batch 1 | ${(s / t1).toFixed(2)}× |`);
    console.log(`| ours / PyTorch, batch ${batch} | ${(bt / tb).toFixed(2)}× |`);
  }
}
console.log(`tensors before/after the measured runs: ${before}/${tf.memory().numTensors}`);
lease.release();
await cache.clear();
