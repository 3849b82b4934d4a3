/**
 * Generation throughput in-process on a shipped model (default models/kjv-char): stateful decoding
 * (prefill once, one recurrent step per token) against the classic baseline that re-runs a 64-token
 * window per generated token. Ratios are measured in one run; absolute figures depend on the load.
 *
 *   node --import tsx bench/generate.ts [--model kjv-char] [--tokens 400] [--runs 3]
 */
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

await stateful(); // warm-up
const before = tf.memory().numTensors;
const results: { stateful: number; window: number }[] = [];
for (let r = 0; r < runs; r++) results.push({ stateful: await stateful(), window: await windowRerun(Math.min(tokens, 100)) });
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = median(results.map((r) => r.stateful));
const w = median(results.map((r) => r.window));
console.log(`backend ${backend.name}; model ${model.ref} (${model.manifest.architecture}, ${JSON.stringify(model.manifest.hyperparameters.units)} units)`);
console.log('| decoding, batch 1 | tokens/s (median of ' + runs + ') |');
console.log('|---|---|');
console.log(`| stateful (prefill once, one step per token) | ${s.toFixed(0)} |`);
console.log(`| window re-run (64 tokens per generated token) | ${w.toFixed(0)} |`);
console.log(`| ratio | ${(s / w).toFixed(1)}× |`);
console.log(`tensors before/after the measured runs: ${before}/${tf.memory().numTensors}`);
lease.release();
await cache.clear();
