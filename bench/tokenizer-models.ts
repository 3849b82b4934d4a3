/**
 * Which tokenizer makes the better model? Trains the same Seq2Seq model on the same real pairs with
 * each tokenizer and prints held-out quality, the copy-the-input baseline, losses and time — one run
 * each, in one process (docs/training.md, "Tokenizers").
 *
 *   node --import tsx bench/tokenizer-models.ts --task translate --rows 3200 --held-out 200 --epochs 10 \
 *     --tokenizers char:5000,word:8000,bpe:2000,bpe:4000
 *
 * Data: $REAL_DATA/translate-de-en.jsonl or summarize-man.jsonl (npm run data:real). Rows are taken
 * in a fixed shuffled order (seed 1); the held-out rows are the trainer's own validation split.
 * Validation loss is per target token of each tokenizer, so it is not comparable across tokenizers;
 * `val nats/char` is: val loss × (target tokens + <eos>) / target characters over the held-out rows —
 * the teacher-forced cross-entropy per character of reference text. Not a test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REAL_DATA_DIR } from '../scripts/real-data/debian-packages.ts';
import { initBackend } from '../src/backend/select.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainSeq2Seq } from '../src/train/train-seq2seq.ts';
import { splitExamples } from '../src/train/epoch-order.ts';
import { predictTexts } from '../src/tasks/seq2seq-predict.ts';
import type { PairExample, PairTask } from '../src/tasks/task-data.ts';
import type { TokenizerType } from '../src/tokenize/index.ts';

const { values: args } = parseArgs({
  options: {
    task: { type: 'string', default: 'translate' },
    rows: { type: 'string', default: '3200' },
    'held-out': { type: 'string', default: '200' },
    epochs: { type: 'string', default: '10' },
    units: { type: 'string', default: '256' },
    tokenizers: { type: 'string', default: 'char:5000,word:8000,bpe:2000,bpe:4000' },
    'max-source': { type: 'string', default: '256' },
    'max-target': { type: 'string', default: '128' },
  },
});
const task = args.task as PairTask;
const file = task === 'translate' ? 'translate-de-en.jsonl' : 'summarize-man.jsonl';
const all = readFileSync(path.join(process.env.REAL_DATA ?? REAL_DATA_DIR, file), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { source: string; target: string });
// Fixed pseudo-random order so the sample spans the whole file.
let seed = 1;
const rand = (): number => ((seed = (Math.imul(seed, 48271) >>> 0) % 2147483647), seed / 2147483647);
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [all[i], all[j]] = [all[j]!, all[i]!];
}
const rows: PairExample[] = all.slice(0, Number(args.rows)).map((r) => ({ source: r.source, target: r.target }));
const backend = await initBackend('wasm');
console.log(`${task}: ${rows.length} rows (${args['held-out']} held out), ${args.epochs} epochs, backend ${backend.name}`);
console.log('| tokenizer | vocab src/tgt | epochs | train s | train loss | val loss (per token) | val nats/char | metric | copy-input baseline | greedy outputs: distinct / blank (of 100) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const spec of args.tokenizers.split(',')) {
  const [type, size] = spec.split(':') as [TokenizerType, string];
  const job = normalizeTrainRequest({
    name: 'bench',
    task,
    dataset: { rows: rows.map((r) => ({ source: r.source, target: r.target })) },
    languages: task === 'translate' ? { source: 'de', target: 'en' } : undefined,
    tokenizer: type === 'bpe' ? { type, vocab_size: Number(size) } : { type, max_vocab: Number(size) },
    hyperparameters: {
      units: Number(args.units), epochs: Number(args.epochs), validation_split: Number(args['held-out']) / rows.length, seed: 42,
      max_source_length: Number(args['max-source']), max_target_length: Number(args['max-target']),
    },
  }) as Parameters<typeof trainSeq2Seq>[0];
  const out = await trainSeq2Seq(job, rows, { onProgress: () => undefined, log: () => undefined, shouldStop: () => false });
  const m = out.metrics;
  const key = task === 'translate' ? 'bleu' : 'rougeL';
  const { val } = splitExamples(rows, job.hyperparameters.validation_split, job.hyperparameters.seed);
  let tokens = 0;
  let chars = 0;
  for (const e of val) {
    tokens += Math.min(out.targetTokenizer.encode(e.target).length + 1, job.hyperparameters.max_target_length);
    chars += Array.from(e.target).length;
  }
  const natsPerChar = ((m.val_loss ?? Number.NaN) * tokens) / chars;
  const hp = job.hyperparameters;
  const outputs = await predictTexts(out.model, val.slice(0, 100), out.sourceTokenizer, out.targetTokenizer, hp.max_source_length, hp.max_target_length);
  const blank = outputs.filter((o) => o.trim() === '').length;
  console.log(
    `| ${spec} | ${out.sourceTokenizer.vocabSize}/${out.targetTokenizer.vocabSize} | ${out.epochsCompleted} | ${out.durationSec.toFixed(0)} | ${m.train_loss?.toFixed(3)} | ${m.val_loss?.toFixed(3)} | ${natsPerChar.toFixed(3)} | ${key} ${(100 * (m[key] ?? 0)).toFixed(2)} | ${(100 * (m[`copy_input_${key}`] ?? 0)).toFixed(2)} | ${new Set(outputs).size} / ${blank} |`,
  );
  console.error(JSON.stringify({ spec, metrics: m, outputs: outputs.slice(0, 5) }));
  out.model.dispose();
}
