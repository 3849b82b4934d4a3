import * as tf from '@tensorflow/tfjs';
import { initBackend } from '/work/main/src/backend/select.ts';
import { ModelStore } from '/work/main/src/store/registry.ts';
import { ModelCache } from '/work/main/src/infer/model-cache.ts';
import { generateText } from '/work/main/src/infer/generate.ts';
import { resolveParams } from '/work/main/src/infer/params.ts';
import { setRnnKernels } from '/work/main/src/arch/rnn-kernels.ts';
await initBackend('wasm');
const cache = new ModelCache(new ModelStore('models'), 1);
const model = (await cache.acquire(process.argv[3] ?? 'kjv-char')).model;
const params = resolveParams({ max_new_tokens: 400, do_sample: false }, { maxNewTokens: 400, maxPromptChars: 1000 });
for (const k of process.argv[2] === 'ab' ? [true, false, true, false, true, false] : [true]) {
  setRnnKernels(k);
  await generateText(model, 'And God said', params);
  const t0 = performance.now();
  const out = await generateText(model, 'And God said unto Moses, Go in unto Pharaoh, and tell him, Let my people go', params);
  const ms = performance.now() - t0;
  console.log(k ? 'kernels' : 'ops    ', (out.details.generated_tokens / (ms / 1000)).toFixed(0), 'tok/s');
}
if (process.argv[2] !== 'ab') {
  const prof = await tf.profile(async () => { await generateText(model, 'And God said', params); });
  const agg = new Map<string, { ms: number; n: number }>();
  for (const k of prof.kernels) { const a = agg.get(k.name) ?? { ms: 0, n: 0 }; a.ms += k.kernelTimeMs as number; a.n++; agg.set(k.name, a); }
  for (const [n, a] of [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(n.padEnd(28), a.n, a.ms.toFixed(1));
}
