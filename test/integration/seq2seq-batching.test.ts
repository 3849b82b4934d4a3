// Continuous batching of Seq2Seq requests: concurrent greedy/sampled requests on one model share a
// batched decoder step (sources of different lengths padded and masked), yet each output is exactly
// what the request alone would produce; joins, leaves and cancels are clean; no tensors left.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq, type Seq2SeqResult } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';

const limits = { maxNewTokens: 256, maxPromptChars: 100000 };
const requests: Array<{ source: string; p: Record<string, unknown> }> = [
  { source: 'three hundred seventy-one', p: {} },
  { source: 'eighty', p: { do_sample: true, seed: 4, temperature: 1.2 } },
  { source: 'ninety-nine thousand nine hundred ninety-one', p: {} },
  { source: 'twelve thousand five', p: { do_sample: true, seed: 9, top_k: 3 } },
  { source: 'seven', p: { max_new_tokens: 3 } },
  { source: 'forty-two thousand one hundred', p: { stop: [' cent'] } },
];

t.test('Seq2Seq continuous batching', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(new ModelStore(fileURLToPath(new URL('../../models', import.meta.url))), 1, 4);
  const lease = await cache.acquire('numbers-en-fr', 'translate');
  const m = lease.model;
  const params = (p: Record<string, unknown>) => resolveSeq2SeqParams(p, limits, 96);
  const baseline = tf.memory().numTensors;

  const alone: Seq2SeqResult[] = [];
  for (const r of requests) alone.push(await runSeq2Seq(m, { source: r.source }, params(r.p)));
  t.equal(m.batcher.peakBatch, 1, 'one at a time: batch of 1');

  const together = await Promise.all(requests.map((r) => runSeq2Seq(m, { source: r.source }, params(r.p))));
  t.equal(m.batcher.peakBatch, 4, 'concurrent requests stepped together, capped at MAX_BATCH_SIZE = 4');
  together.forEach((res, i) => {
    t.equal(res.text, alone[i]!.text, `request ${i}: same text as alone (${JSON.stringify(res.text)})`);
    t.equal(res.details.finish_reason, alone[i]!.details.finish_reason);
  });
  t.equal(together[4]!.details.finish_reason, 'length');
  t.equal(together[5]!.details.finish_reason, 'stop_sequence');
  t.equal(tf.memory().numTensors, baseline, 'no tensors left after joins and leaves');

  // A request joining a batch that is already running (after the first one's first token).
  let second: Promise<Seq2SeqResult> | undefined;
  const first = await runSeq2Seq(m, { source: requests[2]!.source }, params(requests[2]!.p), {
    onToken: () => {
      second ??= runSeq2Seq(m, { source: requests[0]!.source }, params(requests[0]!.p));
    },
  });
  t.equal(first.text, alone[2]!.text, 'the running request is unaffected by a late joiner');
  t.equal((await second!).text, alone[0]!.text, 'the late joiner gets its solo output');
  t.equal(tf.memory().numTensors, baseline);

  // A cancelled request leaves at the next step; the others are unaffected.
  const abort = new AbortController();
  const running = requests.slice(0, 4).map((r, i) => runSeq2Seq(m, { source: r.source }, params(r.p), i === 2 ? { signal: abort.signal, onToken: () => abort.abort() } : {}));
  const results = await Promise.all(running);
  t.equal(results[2]!.details.finish_reason, 'cancelled');
  [0, 1, 3].forEach((i) => t.equal(results[i]!.text, alone[i]!.text, `request ${i} unaffected by the cancel`));
  t.equal(tf.memory().numTensors, baseline);
  lease.release();
  await cache.clear();
});
