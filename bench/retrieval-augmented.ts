/**
 * Plain vs retrieval-augmented Seq2Seq on real pairs, in-process (wasm), with the service's own
 * trainer (train/train-seq2seq.ts): the same seeded subset, split, settings and seed; only
 * `retrieval_augmented` differs. Prints the held-out metrics beside the copy-the-input, lead and
 * retrieval (translation-memory) baselines computed on the same rows, plus time and steps, as one
 * JSON line (and a table row).
 *
 * Usage:
 *   node --import tsx bench/retrieval-augmented.ts --data data/real/translate-de-en.jsonl \
 *     --task translate --rows 3000 --val 200 --ra [--epochs 10] [--hp '{"units":128}'] [--tokenizer char|word|bpe] [--vocab N]
 * `--decodes` also scores decoding variants on the same held-out rows (greedy with <eos> banned at
 * the first step; beam 4 with length penalty 1 and 0.6).
 * `--rows` takes a seeded random subset (seed 7) of the file; `--val` rows of it are held out (by
 * `group` when the rows have one). Data: scripts/real-data/*.ts produce the JSONL files.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { createRng } from '../src/decode/rng.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainSeq2Seq } from '../src/train/train-seq2seq.ts';
import { pairExamples, type PairTask } from '../src/tasks/task-data.ts';
import type { TrainRequest } from '../src/schemas/train.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, task: { type: 'string', default: 'translate' }, rows: { type: 'string', default: '3000' },
    val: { type: 'string', default: '200' }, ra: { type: 'boolean', default: false }, epochs: { type: 'string', default: '10' },
    hp: { type: 'string', default: '{}' }, tokenizer: { type: 'string', default: 'char' }, 'no-group': { type: 'boolean', default: false },
    lang: { type: 'string' }, vocab: { type: 'string' }, decodes: { type: 'boolean', default: false },
  },
});
const backend = await initBackend('wasm');
const task = values.task as PairTask;
const all = readFileSync(values.data!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
const rng = createRng(7);
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(rng() * (i + 1));
  [all[i], all[j]] = [all[j]!, all[i]!];
}
const rows = all.slice(0, Number(values.rows)).map((r) => (values['no-group'] ? { source: r.source!, target: r.target! } : r));
const examples = pairExamples(task, rows);
const body: TrainRequest = {
  name: 'bench', task, dataset: { rows: [] },
  tokenizer: { type: values.tokenizer as 'char' | 'word' | 'bpe', ...(values.vocab ? { vocab_size: Number(values.vocab) } : {}) },
  ...(values.lang ? { languages: { source: values.lang.split(':')[0]!, target: values.lang.split(':')[1]! } } : {}),
  hyperparameters: { epochs: Number(values.epochs), validation_split: Number(values.val) / examples.length, retrieval_augmented: values.ra, ...JSON.parse(values.hp!) },
};
const job = normalizeTrainRequest(body);
const started = Date.now();
const outcome = await trainSeq2Seq({ ...job, task }, examples, {
  onProgress: () => undefined,
  log: (line) => void process.stderr.write(`${((Date.now() - started) / 1000).toFixed(0)}s ${line}\n`),
  shouldStop: () => false,
});
const m = outcome.metrics;
// Decoding variants on the same held-out rows (the trainer's metrics above are greedy with the
// repetition rule): greedy with <eos> banned at the first step (min_new_tokens 1), and beam 4.
if (values.decodes) {
  const { splitExamples } = await import('../src/train/epoch-order.ts');
  const { withRetrieved } = await import('../src/tasks/retrieval.ts');
  const { encodeRows, initialDecoderState, BANNED_IDS, seq2seqDecodingDefaults } = await import('../src/tasks/seq2seq-forward.ts');
  const { predictTexts } = await import('../src/tasks/seq2seq-predict.ts');
  const { encodeSourceIds } = await import('../src/tasks/pair-encoding.ts');
  const { generationMetrics } = await import('../src/eval/task-metrics.ts');
  const { beamSearch } = await import('../src/decode/beam.ts');
  const { beamStepper } = await import('../src/tasks/seq2seq-beam.ts');
  const { disposeState } = await import('../src/arch/lm-step.ts');
  const { disposeEncoded } = await import('../src/arch/seq2seq.ts');
  const { BOS_ID, EOS_ID } = await import('../src/tokenize/index.ts');
  const hp = outcome.hyperparameters;
  const split = splitExamples(examples, hp.validation_split, hp.seed);
  const val = (values.ra ? withRetrieved(split.val, outcome.retrieval, false) : split.val).slice(0, 1000);
  const refs = val.map((e) => e.target);
  const lang = job.languages?.target;
  const n = seq2seqDecodingDefaults(outcome.targetTokenizer.type).no_repeat_ngram_size;
  const score = (name: string, preds: string[]) => {
    const blank = preds.filter((p) => p.trim() === '').length;
    console.log(`decode ${name}: ${JSON.stringify(generationMetrics(task, preds, refs, lang))} blank ${blank}/${preds.length} distinct ${new Set(preds).size}`);
  };
  score('greedy', await predictTexts(outcome.model, val, outcome.sourceTokenizer, outcome.targetTokenizer, hp.max_source_length, hp.max_target_length, { decoding: { num_beams: 1, length_penalty: 1, no_repeat_ngram_size: n } }));
  score('greedy min_new_tokens=1', await predictTexts(outcome.model, val, outcome.sourceTokenizer, outcome.targetTokenizer, hp.max_source_length, hp.max_target_length, { decoding: { num_beams: 1, length_penalty: 1, no_repeat_ngram_size: n }, minNewTokens: 1 }));
  for (const lp of [1, 0.6]) {
    const preds: string[] = [];
    for (const e of val) {
      const enc = encodeRows(outcome.model, [encodeSourceIds(outcome.sourceTokenizer, e, hp.max_source_length).ids]);
      const init = initialDecoderState(enc);
      const r = await beamSearch(beamStepper(outcome.model, enc), init, { numBeams: 4, maxNewTokens: hp.max_target_length, lengthPenalty: lp, noRepeatNgramSize: n, bosId: BOS_ID, eosId: EOS_ID, bannedIds: BANNED_IDS });
      disposeState(init);
      disposeEncoded(enc);
      preds.push(outcome.targetTokenizer.decode(r.best.ids));
    }
    score(`beam 4 length_penalty ${lp}`, preds);
  }
}
const head = task === 'translate' ? 'bleu' : task === 'summarize' ? 'rougeL' : 'f1';
const r = (k: string) => (m[k] === undefined ? 'n/a' : (m[k]! * (head === 'bleu' ? 100 : 1)).toFixed(head === 'bleu' ? 1 : 3));
console.log(JSON.stringify({ task, rows: rows.length, retrieval_augmented: values.ra, hyperparameters: job.hyperparameters, tokenizer: job.tokenizer, backend: backend.name, steps: outcome.steps, seconds: Math.round((Date.now() - started) / 1000), metrics: m, quality_warning: outcome.qualityWarning }));
console.log(`| ${task} | ${values.ra ? 'retrieval-augmented' : 'plain'} | ${r(head)} | ${r(`retrieval_${head}`)} | ${r(`copy_input_${head}`)} | ${task === 'summarize' ? r('lead_rougeL') : '—'} | ${m.train_loss?.toFixed(3)} / ${m.val_loss?.toFixed(3)} | ${outcome.steps} | ${Math.round((Date.now() - started) / 1000)} s |`);
outcome.model.dispose();
if (tf.memory().numTensors > 0) process.stderr.write(`tensors left: ${tf.memory().numTensors}\n`);
