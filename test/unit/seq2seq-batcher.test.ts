// Seq2SeqBatcher with slot-kept sources (src/infer/seq2seq-batcher.ts, source-slots.ts): requests join
// and leave while others are mid-decode — joiners admitted together are encoded as one batch, a
// longer source widens the slots, a leaver's slot is reused, a wait for a free row (MAX_BATCH_SIZE 4)
// — and every output equals the request's solo decode; no tensor is left afterwards.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq, type Seq2SeqResult } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';

const limits = { maxNewTokens: 256, maxPromptChars: 100000 };
const sources = [
  'twelve thousand five', // 0: runs from the start
  'eighty', // 1: joins at 0's 1st token event, leaves early
  'three hundred seventy-one', // 2: joins with 3 at 0's 3rd token event (one encoder batch)
  'ninety-nine thousand nine hundred ninety-one', // 3: the longest source (slots widen)
  'forty-two thousand one hundred', // 4: joins with 5 at 0's 5th token event; they wait for free rows and reuse slots
  'seven hundred seven', // 5: cancelled (by another request's event) after it has emitted a token
];

t.test('joins and leaves mid-decode give solo outputs', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(new ModelStore(fileURLToPath(new URL('../../models', import.meta.url))), 1, 4);
  const lease = await cache.acquire('numbers-en-fr', 'translate');
  const m = lease.model;
  const params = resolveSeq2SeqParams({}, limits, 96);
  const baseline = tf.memory().numTensors;
  const alone: Seq2SeqResult[] = [];
  for (const source of sources) alone.push(await runSeq2Seq(m, { source }, params));

  const late: Array<Promise<Seq2SeqResult>> = [];
  const abort = new AbortController();
  let tokens = 0;
  let fifthTokens = 0;
  // Not from request 5's own onToken: an abort inside a request's own token callback re-emits that
  // token (Sequence.accept → emit → cancel → end emits the same pending event; alone too).
  const others = { onToken: () => fifthTokens > 0 && abort.abort() };
  const first = runSeq2Seq(m, { source: sources[0]! }, params, {
    onToken: () => {
      others.onToken();
      tokens++;
      if (tokens === 1) late.push(runSeq2Seq(m, { source: sources[1]! }, params, others));
      if (tokens === 3) late.push(...[2, 3].map((i) => runSeq2Seq(m, { source: sources[i]! }, params, others)));
      if (tokens === 5) {
        late.push(runSeq2Seq(m, { source: sources[4]! }, params, others));
        late.push(runSeq2Seq(m, { source: sources[5]! }, params, { signal: abort.signal, onToken: () => fifthTokens++ }));
      }
    },
  });
  const together = [await first, ...(await Promise.all(late))];
  t.equal(together.length, sources.length);
  t.equal(m.batcher.peakBatch, 4, 'stepped together, capped at MAX_BATCH_SIZE = 4');
  together.slice(0, 5).forEach((r, i) => {
    t.equal(r.text, alone[i]!.text, `request ${i}: its solo output (${JSON.stringify(r.text)})`);
    t.equal(r.details.finish_reason, alone[i]!.details.finish_reason);
  });
  t.equal(together[5]!.details.finish_reason, 'cancelled');
  t.ok(together[5]!.text.length > 0 && alone[5]!.text.startsWith(together[5]!.text), `the cancelled request got a prefix of its solo output (${JSON.stringify(together[5]!.text)} of ${JSON.stringify(alone[5]!.text)})`);
  t.ok(together[1]!.details.generated_tokens < together[0]!.details.generated_tokens, 'the short joiner left first');
  t.equal(tf.memory().numTensors, baseline, 'no tensors left after the joins and leaves');
  lease.release();
  await cache.clear();
});
