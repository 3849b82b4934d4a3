/**
 * Hand-run measurement (not a test): training tokens/s of one job on 1 thread and on N threads
 * (TRAIN_THREADS, synchronous data parallelism over worker_threads: src/train/data-parallel.ts), in
 * ONE process, runs interleaved (1, N, 1, N, …), medians reported with the ratio.
 *
 * Workload: seqserve's own char LM as a job builds it (buildWindowModel: Embedding(96→64) → fused
 * LSTM(256) → Dense(96), or --arch gru|transformer), cross-entropy on every position, Adam, clip 5,
 * batch 32 × 64 of random ids (bench/lib/char-lm.ts sizes), wasm backend; steps through the same
 * windowTrainableRun the trainer uses. The gradient threads start once, outside the timing.
 *
 *   node --import tsx bench/train-threads.ts [--threads 2] [--steps 8] [--reps 3] [--arch lstm]
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { initBackend } from '../src/backend/select.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { buildWindowModel, windowOptimizer, windowTrainableRun } from '../src/train/window-lm.ts';
import { startWindowParallel } from '../src/train/window-replica.ts';
import { epochPlan } from '../src/train/lm-data.ts';
import { GradStats } from '../src/train/loop.ts';
import { arg } from './lib/args.ts';
import { B, E, T, V } from './lib/char-lm.ts';

const threads = Number(arg('threads', '2'));
const steps = Number(arg('steps', '8'));
const reps = Number(arg('reps', '3'));
const architecture = arg('arch', 'lstm') as 'lstm' | 'gru' | 'transformer';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  const sizes = architecture === 'transformer' ? { layers: 2, heads: 4, embedding_dim: 128, context_length: T } : { units: 256, embedding_dim: E, sequence_length: T };
  const job = normalizeTrainRequest({
    name: 'bench', architecture, dataset: { text: 'x' },
    hyperparameters: { ...sizes, dropout: 0, batch_size: B, learning_rate: 2e-3, epochs: 1, seed: 1 },
  });
  const corpus = Int32Array.from({ length: B * T * (steps + 1) * 4 }, () => Math.floor(Math.random() * V));
  const { model, hp } = buildWindowModel(job, V, corpus.length);
  const optimizer = windowOptimizer(model, hp);
  const planFor = () => epochPlan(corpus, T, B, 1, 0);
  const log = (l: string) => console.log(l);
  const t0 = performance.now();
  const parallel = await startWindowParallel({ trainThreads: threads, job, model, hp, vocabSize: V, trainTokens: corpus.length, ignoreId: -1, optimizer, log });
  if (!parallel) throw new Error(`no gradient threads started for --threads ${threads}`);
  console.log(`tf.js ${tf.version.tfjs}, backend ${info.name}; ${architecture} (${architecture === 'transformer' ? '2 layers × 128' : '256 units'}), batch ${B} × ${T}, vocab ${V}; ${os.availableParallelism()} cores; threads started in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const runs: Record<number, number[]> = { 1: [], [threads]: [] };
  try {
    for (let r = 0; r < reps; r++) {
      for (const n of [1, threads]) {
        const run = windowTrainableRun({ model, optimizer, hp, planFor, gradStats: new GradStats(), validate: () => null, checkpointExtra: () => ({ tokenizer: {} as never }), parallel: n > 1 ? parallel : null });
        await run.trainStep(0, 0); // warm-up (XNNPACK operators, the thread's first step)
        const s = performance.now();
        for (let k = 1; k <= steps; k++) await run.trainStep(0, k);
        const tps = Math.round((steps * B * T) / ((performance.now() - s) / 1000));
        runs[n]!.push(tps);
        console.log(JSON.stringify({ threads: n, rep: r, tokensPerSec: tps }));
      }
    }
  } finally {
    await parallel.close();
    optimizer.dispose();
    model.dispose();
  }
  // Best-of approximates a quiet machine (other engineers' jobs share these cores); median is what a job saw.
  const one = median(runs[1]!), many = median(runs[threads]!);
  const best1 = Math.max(...runs[1]!), bestN = Math.max(...runs[threads]!);
  const fmt = (n: number) => n.toLocaleString('en-US');
  console.log(`\n| threads | tokens/s, median of ${reps} | best of ${reps} |\n|---|---|---|\n| 1 | ${fmt(one)} | ${fmt(best1)} |\n| ${threads} | ${fmt(many)} | ${fmt(bestN)} |\n| ratio | ${(many / one).toFixed(2)}× | ${(bestN / best1).toFixed(2)}× |\n\nload after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; tensors alive: ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
