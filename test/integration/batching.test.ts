// Continuous batching: concurrent generations share one batched step per token, yet each output is
// what the request alone would produce (own sampler and seed), joins and leaves are clean, no leaks.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { generateText } from '../../src/infer/generate.ts';
import type { TokenEvent } from '../../src/infer/sequence.ts';
import { resolveParams } from '../../src/infer/params.ts';
import { publishTinyModel, testConfig } from '../helpers/app.ts';

const limits = { maxNewTokens: 500, maxPromptChars: 100 };
const requests = [
  { prompt: 'the ', p: { max_new_tokens: 40, seed: 1, temperature: 0.9 } },
  { prompt: 'the dog', p: { max_new_tokens: 7, seed: 2, top_k: 3 } },
  { prompt: '', p: { max_new_tokens: 60, seed: 3, top_p: 0.8 } },
  { prompt: 'a cat sat', p: { max_new_tokens: 25, do_sample: false } },
  { prompt: 'the m', p: { max_new_tokens: 33, seed: 5, repetition_penalty: 1.3 } },
  { prompt: 'log', p: { max_new_tokens: 50, seed: 6, stop: ['.'] } },
  { prompt: 'on the ', p: { max_new_tokens: 12, seed: 7, temperature: 1.5 } },
  { prompt: 'sat', p: { max_new_tokens: 45, seed: 8 } },
];

t.test('continuous batching', async (t) => {
  await initBackend('wasm');
  const config = testConfig(t);
  await publishTinyModel(config, 'tiny');
  const cache = new ModelCache(new ModelStore(config.modelsDir), 2, 4);
  const lease = await cache.acquire('tiny');
  const model = lease.model;
  const run = (r: (typeof requests)[number], signal?: AbortSignal, onToken?: (e: TokenEvent) => void) =>
    generateText(model, r.prompt, resolveParams(r.p, limits), { signal, onToken });

  const alone: Awaited<ReturnType<typeof run>>[] = [];
  for (const r of requests) alone.push(await run(r));
  t.equal(model.batcher.peakBatch, 1, 'one at a time: batch of 1');
  const baseline = tf.memory().numTensors;

  const together = await Promise.all(requests.map((r) => run(r)));
  t.equal(model.batcher.peakBatch, 4, 'concurrent requests stepped together, capped at MAX_BATCH_SIZE = 4');
  together.forEach((res, i) => {
    t.equal(res.text, alone[i]!.text, `request ${i}: same text as alone`);
    t.equal(res.details.finish_reason, alone[i]!.details.finish_reason);
    t.equal(res.details.generated_tokens, alone[i]!.details.generated_tokens);
  });
  t.equal(tf.memory().numTensors, baseline, 'no tensors left after joins and leaves');

  // Cancel one mid-flight: it ends `cancelled`, the others are unaffected.
  const abort = new AbortController();
  const long = { prompt: 'the ', p: { max_new_tokens: 400, do_sample: false } };
  // Aborted from its own token callback after 10 tokens (not by a timer: 400 tokens take ~30 ms).
  const events: TokenEvent[] = [];
  const abortAt10 = (e: TokenEvent) => {
    events.push(e);
    if (e.index === 9) abort.abort();
  };
  const pending = [run(long, abort.signal, abortAt10), ...requests.slice(0, 3).map((r) => run(r))];
  const [cancelled, ...others] = await Promise.all(pending);
  t.equal(cancelled!.details.finish_reason, 'cancelled');
  t.ok(cancelled!.details.generated_tokens < 400);
  t.same(events.map((e) => e.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'ten token events, none after the abort, none twice');
  t.equal(cancelled!.text, events.map((e) => e.text).join(''), 'the cancelled text is what its token events carried');
  others.forEach((res, i) => t.equal(res.text, alone[i]!.text, `request ${i} unaffected by the cancel`));
  t.equal(tf.memory().numTensors, baseline);
  lease.release();
  await cache.clear();
});
