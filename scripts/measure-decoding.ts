/**
 * Decoding measurement (docs/training.md, "Convergence and defaults"): scores Seq2Seq decoding
 * settings on the held-out rows of a model trained by scripts/measure-convergence.ts, through the
 * serving path (runSeq2Seq: the batcher for greedy, beam search otherwise). Per setting: the
 * metric (BLEU for translate, ROUGE-L for summarize), the share of outputs that ran to
 * max_new_tokens (a looping output almost always does), distinct outputs, and seconds; for
 * translate also word ROUGE-L F1, which still moves when BLEU is 0.
 *
 *   node --import tsx scripts/measure-decoding.ts DATA NAME [SETTINGS-JSON]
 *
 * DATA and ROWS / HELDOUT / SHUFFLE_SEED as for measure-convergence.ts (the same seeded sample and
 * the trainer's own split, so the rows are exactly the model's held-out rows). SETTINGS-JSON: an
 * array of Seq2Seq `parameters` objects (default: greedy and beam 4, with and without the
 * repetition rule).
 */
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { runSeq2Seq } from '../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams, type Seq2SeqParameterInput } from '../src/infer/params.ts';
import { generationMetrics } from '../src/eval/task-metrics.ts';
import { splitExamples } from '../src/train/epoch-order.ts';
import { measureSample } from './measure-sample.ts';

const [data = 'translate', name = 'measure', settingsJson] = process.argv.slice(2);
const { rows, heldOut } = measureSample(data);

await initBackend('wasm');
const store = new ModelStore(process.env.MEASURE_MODELS ?? '/tmp/measure-models');
const cache = new ModelCache(store, 1);
const task = data === 'translate' ? 'translate' : 'summarize';
const lease = await cache.acquire(name, task);
const hp = lease.model.manifest.hyperparameters as { validation_split: number; seed: number; max_target_length: number };
const { val } = splitExamples(rows, hp.validation_split, hp.seed);
const refs = val.map((e) => e.target);
const lang = data === 'translate' ? 'en' : undefined;
const settings: Seq2SeqParameterInput[] = settingsJson
  ? JSON.parse(settingsJson)
  : [{}, { no_repeat_ngram_size: 4 }, { num_beams: 4 }, { num_beams: 4, no_repeat_ngram_size: 4 }];
const limits = { maxNewTokens: 4096, maxPromptChars: 100000 };

for (const s of settings) {
  const params = resolveSeq2SeqParams({ seed: 1, ...s }, limits, hp.max_target_length);
  const started = Date.now();
  // Greedy requests run concurrently (the batcher steps them together); beam search one by one.
  const outs = params.num_beams > 1
    ? await val.reduce<Promise<Awaited<ReturnType<typeof runSeq2Seq>>[]>>(async (acc, e) => [...(await acc), await runSeq2Seq(lease.model, e, params)], Promise.resolve([]))
    : await Promise.all(val.map((e) => runSeq2Seq(lease.model, e, params)));
  const texts = outs.map((o) => o.text);
  const m = generationMetrics(task, texts, refs, lang);
  const headline = task === 'translate' ? 'bleu' : 'rougeL';
  // A softer second metric for translate (BLEU is 0 until 4-grams match): ROUGE-L F1 on words.
  const soft = task === 'translate' ? { rougeL: +generationMetrics('summarize', texts, refs).rougeL!.toFixed(4) } : {};
  const looped = outs.filter((o) => o.details.finish_reason === 'length').length / outs.length;
  console.log(`DECODE ${JSON.stringify({ setting: s, [headline]: +m[headline]!.toFixed(4), ...soft, ran_to_max_new_tokens: +looped.toFixed(3), distinct_outputs: new Set(texts).size, examples: val.length, seconds: Math.round((Date.now() - started) / 1000) })}`);
  console.log(`  e.g. ${texts.slice(0, 3).map((t) => JSON.stringify(t)).join(' | ')}`);
}
lease.release();
await cache.clear();
