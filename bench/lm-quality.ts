/**
 * Hand-run measurement (not a test): held-out quality of a character LM trained by seqserve's own
 * training path vs the same model trained by PyTorch on the same batches (issue 7, `generate` row:
 * held-out nats/char within 5% of PyTorch's at the same steps).
 *
 * Corpus: the King James Bible (Debian bible-kjv-text via the `bible` reader of bible-kjv; public
 * domain), all 66 books by default (~4.2 MB of text), one record, char tokenizer.
 *
 * seqserve side: `normalizeTrainRequest` (the defaults a POST /train gets) with only the step budget
 * set (`epochs: 1`, `max_steps_per_epoch: --steps`) plus any --units/--dropout/… overrides, then
 * `trainLanguageModel` — the worker's own code path (src/train/train-lm.ts) — whose `val_loss` is
 * the held-out mean NLL per character (evaluateLoss over validationBatches of the held-out tail).
 *
 * PyTorch side (bench/torch_lm_quality.py): the job's model and optimizer mirrored (Embedding → LSTM →
 * Dropout → Linear; Adam with tf.js's betas and epsilon; the job's clip_norm, warm-up and schedule),
 * trained on EXACTLY the batches seqserve trained on — rebuilt here with the same pieces train-lm.ts
 * uses (fitTokenizer, encodeCorpus, splitTrainVal, epochPlan; seeded, so identical) and written to a
 * temporary directory — and scored on the same held-out windows. One run per --torch-inits entry:
 * `torch` (PyTorch's own initialisation: the reference), `seqserve` (seqserve's initialisers
 * mirrored), `seqserve-uniform-emb` (the same with the old U(±0.05) embedding). 1 thread by default
 * (2 OpenMP threads crawl when the 2 cores are shared); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
 * removed from its environment (as bench/train-matrix.ts does).
 *
 * Baselines: the unigram and bigram of the training split that every LM's metrics carry (src/eval/ngram.ts),
 * on the held-out stream.
 *
 *   node --import tsx bench/lm-quality.ts [--steps 1000] [--books Gen1:1-Rev22:21]
 *        [--torch-inits torch,seqserve,seqserve-uniform-emb] [--torch-threads 1] [--no-torch] [--skip-seqserve]
 *        [--units n] [--embedding n] [--layers n] [--dropout p] [--lr x] [--clip x] [--keep-data]
 * Exit code 1 when seqserve's held-out nats/char is more than 5% above PyTorch's (PyTorch init).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/select.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainLanguageModel } from '../src/train/train-lm.ts';
import { autoWarmup } from '../src/train/loop.ts';
import { COSINE_FLOOR } from '../src/train/schedule.ts';
import { epochPlan, splitTrainVal, validationBatches } from '../src/train/lm-data.ts';
import { writeTorchBatches } from './lib/torch-batches.ts';
import { encodeCorpus } from '../src/tasks/lm-encoding.ts';
import { fitTokenizerFor } from '../src/tokenize/index.ts';
import { ngramPerplexities } from '../src/eval/ngram.ts';
import type { TrainRequest } from '../src/schemas/train.ts';
import { loadDemoCorpus } from '../scripts/demo-corpus.ts';
import { arg } from './lib/args.ts';

const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TARGET = 1.05;
const INIT_TITLES: Record<string, string> = {
  torch: 'PyTorch init', seqserve: 'seqserve init', 'seqserve-uniform-emb': 'seqserve init, old U(±0.05) embedding',
};

const steps = Number(arg('steps', '1000'));
const books = arg('books', 'Gen1:1-Rev22:21').split(',');
const inits = arg('torch-inits', 'torch,seqserve,seqserve-uniform-emb').split(',').filter(Boolean);
const torchThreads = arg('torch-threads', '1');
const override = (name: string, key: string): Record<string, number> => {
  const v = arg(name, '');
  return v === '' ? {} : { [key]: Number(v) };
};

const backend = await initBackend('wasm');
const text = loadDemoCorpus(books);
const bytes = Buffer.byteLength(text);
console.log(`corpus: KJV ${books.join(',')}: ${text.length.toLocaleString('en-US')} characters, ${(bytes / 1e6).toFixed(2)} MB; backend ${backend.name}`);
if (bytes < 1e6) throw new Error(`the corpus must be ≥ 1 MB (got ${bytes} bytes)`);

const job = normalizeTrainRequest({
  name: 'lm-quality',
  task: 'generate',
  dataset: { text },
  hyperparameters: {
    epochs: 1, max_steps_per_epoch: steps,
    ...override('units', 'units'), ...override('embedding', 'embedding_dim'), ...override('layers', 'layers'),
    ...override('dropout', 'dropout'), ...override('lr', 'learning_rate'), ...override('clip', 'clip_norm'),
  } as TrainRequest['hyperparameters'],
});
// Read generically: fields that exist only in some versions of the job (schedules, weight decay).
const hp = job.hyperparameters as unknown as Record<string, number | string | null | undefined>;
const T = job.hyperparameters.sequence_length;
const B = job.hyperparameters.batch_size;

// The pieces train-lm.ts uses, with the same arguments: the same ids, split, and batches.
const tokenizer = fitTokenizerFor(job.tokenizer, [text]);
const ids = encodeCorpus([text], tokenizer);
const { train, val } = splitTrainVal(ids, job.hyperparameters.validation_split);
const plan = epochPlan(train, T, B, job.hyperparameters.seed, 0);
if (steps > plan.steps) throw new Error(`--steps ${steps} exceeds one epoch (${plan.steps} steps): use a larger corpus or fewer steps`);
const valBatches = validationBatches(val, T, B);
console.log(`vocab ${tokenizer.vocabSize}; ${train.length.toLocaleString('en-US')} training ids (${plan.steps} batches per epoch), ${val.length.toLocaleString('en-US')} held-out ids`);

// The service's own baselines (src/eval/ngram.ts, in every LM's metrics), as nats per token.
const ngram = ngramPerplexities(train, val, tokenizer.vocabSize)!;
const baselines = { unigram: Math.log(ngram.unigram_perplexity), bigram: Math.log(ngram.bigram_perplexity) };
const heldOutTokens = valBatches.reduce((n, b) => n + b.rows * b.seqLen, 0);

// Mirror of the job's optimisation settings for PyTorch.
const schedule = (hp.lr_schedule as string | undefined) ?? 'constant';
if (schedule === 'plateau' && hp.eval_every_steps != null && Number(hp.eval_every_steps) < steps) {
  throw new Error('lr_schedule plateau with mid-run evaluations is not mirrored: leave eval_every_steps unset');
}
if (Number(hp.weight_decay ?? 0) > 0) throw new Error('weight_decay > 0 is not mirrored by bench/torch_lm_quality.py');
const meta = {
  vocab: tokenizer.vocabSize, embedding_dim: job.hyperparameters.embedding_dim, units: job.hyperparameters.units,
  layers: job.hyperparameters.layers, dropout: job.hyperparameters.dropout, seq_len: T, batch_size: B, steps,
  lr: job.hyperparameters.learning_rate, beta1: 0.9, beta2: 0.999, eps: tf.backend().epsilon(),
  clip_norm: job.hyperparameters.clip_norm ?? null,
  // plateau only halves the rate after a held-out evaluation; the one evaluation here is at the end.
  lr_schedule: schedule === 'plateau' ? 'constant' : schedule,
  // The loop's step bound here is epochs (1) × max_steps_per_epoch = steps; warm-up null = auto.
  warmup_steps: hp.warmup_steps == null ? autoWarmup(steps) : Number(hp.warmup_steps), total_steps: steps, cosine_floor: COSINE_FLOOR,
  seed: job.hyperparameters.seed, val_len: valBatches[0]?.seqLen ?? T,
};
if (job.architecture !== 'lstm') throw new Error(`only lstm is mirrored (job architecture ${job.architecture})`);
console.log(`model: Embedding(${meta.vocab}→${meta.embedding_dim}) → ${meta.layers} × LSTM(${meta.units}) → Dropout(${meta.dropout}) → Dense(${meta.vocab}); batch ${B} × ${T}, ${steps} steps`);
console.log(`optimizer: Adam lr ${meta.lr} (schedule ${schedule}, warm-up ${meta.warmup_steps}), betas 0.9/0.999, eps ${meta.eps}, clip_norm ${meta.clip_norm ?? 'off'}`);

// ---- seqserve -------------------------------------------------------------------------------
interface OursRun { val: number; trainLoss: number; seconds: number; tokensPerSec: number }

/** Trains through train-lm.ts and checks it trained what the PyTorch side is told (steps, vocab, shapes). */
async function trainSeqserve(): Promise<OursRun> {
  const tensorsBefore = tf.memory().numTensors;
  let maxStep = 0; // the loop's last report (stop_reason) may not carry the step: keep the highest
  let lastPrint = 0;
  const outcome = await trainLanguageModel(job, [text], {
    onProgress: (p) => {
      maxStep = Math.max(maxStep, p.step);
      if (Date.now() - lastPrint > 30_000 || p.step === p.steps) {
        lastPrint = Date.now();
        console.log(`  seqserve step ${p.step}/${p.steps} loss ${p.loss?.toFixed(4)} ${p.tokens_per_sec ?? '-'} tok/s`);
      }
    },
    log: (line) => console.log(`  seqserve: ${line}`),
    shouldStop: () => false,
  });
  const run = { val: outcome.metrics.val_loss!, trainLoss: outcome.metrics.train_loss!, seconds: outcome.durationSec, tokensPerSec: outcome.tokensPerSec ?? 0 };
  try {
    if (maxStep !== steps) throw new Error(`seqserve trained ${maxStep} steps, expected ${steps}`);
    if (outcome.tokenizer.vocabSize !== tokenizer.vocabSize) throw new Error('tokenizer differs from the one train-lm.ts fitted');
    const kernels = outcome.model.getWeights().filter((w) => w.shape.length === 2 && w.shape[1] === 4 * meta.units);
    if (kernels.length !== 2 * meta.layers) throw new Error('the trained model does not have the mirrored LSTM shape');
  } finally {
    outcome.model.dispose();
  }
  console.log(`seqserve: held-out ${run.val.toFixed(4)} nats/char, train loss (epoch mean) ${run.trainLoss.toFixed(4)}, ${Math.round(run.seconds)} s, ${Math.round(run.tokensPerSec)} tok/s; tensors left after dispose: ${tf.memory().numTensors - tensorsBefore}`);
  return run;
}
// --skip-seqserve: PyTorch runs only (diagnosis).
const ours = process.argv.includes('--skip-seqserve') ? undefined : await trainSeqserve();

// ---- PyTorch --------------------------------------------------------------------------------
interface TorchRun { torch: string; threads: number; init: string; val_nats: number; val_tokens: number; train_loss_last: number; train_seconds: number; tokens_per_sec: number }
const torchRuns: TorchRun[] = [];
if (!process.argv.includes('--no-torch')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-quality-'));
  try {
    writeTorchBatches(dir, plan, steps, B, T, valBatches, meta);

    const env = { ...process.env };
    for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) delete env[k];
    for (const init of inits) {
      console.log(`PyTorch (${init} init): ${PYTHON} bench/torch_lm_quality.py ${dir} --init ${init} --threads ${torchThreads}`);
      const r = spawnSync(PYTHON, [path.join(HERE, 'torch_lm_quality.py'), dir, '--init', init, '--threads', torchThreads], { env, encoding: 'utf8', timeout: 1_800_000 });
      if (r.error || r.status !== 0) {
        console.log(`PyTorch run failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().slice(-800)}`);
        continue;
      }
      const run = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as TorchRun;
      console.log(`  ${JSON.stringify(run)}`);
      torchRuns.push(run);
    }
  } finally {
    if (process.argv.includes('--keep-data')) console.log(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ---- table ----------------------------------------------------------------------------------
const ref = torchRuns.find((r) => r.init === 'torch') ?? torchRuns[0];
const f4 = (n: number) => n.toFixed(4);
const rel = (n: number) => (ref ? `${(n / ref.val_nats).toFixed(3)}` : '–');
console.log(`\n| model (${steps} steps of ${B} × ${T}) | held-out nats/char | bits/char | ÷ PyTorch | train loss | train s | tokens/s |`);
console.log('|---|---|---|---|---|---|---|');
console.log(`| unigram (add-1, src/eval/ngram.ts) | ${f4(baselines.unigram)} | ${f4(baselines.unigram / Math.LN2)} | ${rel(baselines.unigram)} | | | |`);
console.log(`| bigram (add-0.1, src/eval/ngram.ts) | ${f4(baselines.bigram)} | ${f4(baselines.bigram / Math.LN2)} | ${rel(baselines.bigram)} | | | |`);
if (ours) console.log(`| seqserve (train-lm.ts, wasm) | ${f4(ours.val)} | ${f4(ours.val / Math.LN2)} | ${rel(ours.val)} | ${f4(ours.trainLoss)} (epoch mean) | ${Math.round(ours.seconds)} | ${Math.round(ours.tokensPerSec)} |`);
for (const r of torchRuns) {
  console.log(`| PyTorch ${r.torch}, ${INIT_TITLES[r.init] ?? r.init} | ${f4(r.val_nats)} | ${f4(r.val_nats / Math.LN2)} | ${rel(r.val_nats)} | ${f4(r.train_loss_last)} (last 100) | ${Math.round(r.train_seconds)} | ${r.tokens_per_sec} |`);
}
console.log(`\nheld-out: ${heldOutTokens.toLocaleString('en-US')} characters (the last ${job.hyperparameters.validation_split * 100}% of the corpus), identical windows for the LSTM rows (the n-grams score the held-out stream)`);
if (ref && ours) {
  const ratio = ours.val / ref.val_nats;
  const met = ratio <= TARGET;
  console.log(`seqserve / PyTorch = ${ratio.toFixed(3)} (target ≤ ${TARGET}): ${met ? 'met' : 'NOT met'}`);
  if (!met) process.exitCode = 1;
}
