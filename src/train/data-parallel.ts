/**
 * Synchronous data parallelism for one optimizer step (TRAIN_THREADS > 1): the batch's rows are split
 * into N contiguous shards; shard 0 runs on the main thread, shard k on gradient thread k
 * (grad-pool.ts). Each computes the gradients of (counted_k / counted) × (its mean loss), so their
 * sum is the full batch's mean-loss gradient; the main thread sums them in shard order and takes one
 * optimizer step (clip, apply, weight decay: loop.ts applyGradientStep). The optimizer and its state
 * live on the main thread only, so checkpoints, resume, cancel and progress are those of one thread.
 * Results equal the one-thread step up to float summation order (and dropout masks, which differ
 * per shard).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Batch } from './lm-data.ts';
import { applyGradientStep, type StepOptions } from './loop.ts';
import { GradientPool } from './grad-pool.ts';
import { shardSeed, type GradientReplica, type ReplicaRecipe, type ShardInput } from './replica.ts';

/** How many threads one training job uses (TRAIN_THREADS, main thread included); absent or 1 = the one-thread path. */
export interface ParallelOptions {
  trainThreads?: number;
}

/**
 * Cores this process may use: os.availableParallelism() (CPU affinity), capped by a cgroup v2 CPU
 * quota (a container's --cpus, rounded down, at least 1), which Node does not see.
 */
export function availableCores(): number {
  let n = os.availableParallelism();
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota !== 'max' && Number(period) > 0) n = Math.min(n, Math.max(1, Math.floor(Number(quota) / Number(period))));
  } catch {
    // no cgroup v2 CPU controller: affinity only
  }
  return n;
}

/** TRAIN_THREADS as a thread count: 0 = every core this process may use (availableCores). */
export const trainThreadsFor = (setting: number): number => (setting === 0 ? availableCores() : setting);

/** Rows [k·rows/n, (k+1)·rows/n) of `b` for k < n, with shard seeds; null for a shard with no rows. */
export function splitRows(b: Batch, n: number, stepSeed: number): (ShardInput | null)[] {
  return Array.from({ length: n }, (_, k) => {
    const r0 = Math.floor((k * b.rows) / n), r1 = Math.floor(((k + 1) * b.rows) / n);
    if (r1 === r0) return null;
    const span = (a: Int32Array) => a.slice(r0 * b.seqLen, r1 * b.seqLen);
    return { rows: r1 - r0, seqLen: b.seqLen, x: span(b.x), y: span(b.y), seed: shardSeed(stepSeed, k) };
  });
}

export class DataParallelStep {
  private readonly vars: tf.Variable[];

  constructor(
    private readonly replica: GradientReplica,
    private readonly pool: GradientPool,
    private readonly optimizer: tf.Optimizer,
  ) {
    this.vars = replica.variables();
  }

  /** Threads taking part, the main one included. */
  get threads(): number {
    return this.pool.size + 1;
  }

  /**
   * One optimizer step on batch `b` (clipping, weight decay, statistics per `opts`, as optimizerStep);
   * returns its mean loss. `stepSeed` is the one-thread step's dropout seed (shard 0 keeps it).
   * Rejects when a gradient thread fails.
   */
  async step(b: Batch, stepSeed: number, opts: StepOptions): Promise<number> {
    const shards = splitRows(b, this.threads, stepSeed);
    const counts = shards.map((s) => (s ? this.replica.counted(s.y) : 0));
    const total = counts.reduce((a, c) => a + c, 0);
    const scaleOf = (k: number) => (total > 0 ? counts[k]! / total : 0);
    this.pool.writeWeights(this.replica.weights());
    const helpers = this.pool.compute(shards.slice(1).map((s, k) => (s && counts[k + 1]! > 0 ? { shard: s, scale: scaleOf(k + 1) } : null)));
    helpers.catch(() => undefined); // awaited below; this only keeps a failure during our own shard from being "unhandled"
    const s0 = shards[0];
    let own: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
    try {
      if (s0 && counts[0]! > 0) own = tf.tidy(() => tf.variableGrads(() => tf.mul(this.replica.loss(s0), scaleOf(0)) as tf.Scalar, this.vars));
      const helperLosses = await helpers;
      const ownLoss = own ? own.value.dataSync()[0]! : 0;
      tf.tidy(() => {
        const grads: tf.NamedTensorMap = {};
        this.vars.forEach((v, i) => {
          let sum: tf.Tensor = own?.grads[v.name] ?? tf.zeros(v.shape);
          helperLosses.forEach((_, k) => {
            if (shards[k + 1] && counts[k + 1]! > 0) sum = tf.add(sum, tf.tensor(this.pool.gradView(k + 1, i).slice(), v.shape, 'float32'));
          });
          grads[v.name] = sum;
        });
        applyGradientStep(this.optimizer, grads, opts);
      });
      return helperLosses.reduce((a, l) => a + l, ownLoss);
    } finally {
      if (own) tf.dispose([own.value, ...Object.values(own.grads)]);
    }
  }

  /** Terminates the gradient threads (idempotent). */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Gradient threads to start for `trainThreads` threads in all on this backend: none for a native one (it threads itself). */
export function helperThreads(trainThreads: number, backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? Math.max(0, trainThreads - 1) : 0;
}

/**
 * A DataParallelStep over `trainThreads` threads (main included) for `replica`, whose gradient threads
 * rebuild it from `recipe`; null (the one-thread path) when trainThreads ≤ 1 or the backend is native.
 */
export async function startDataParallel(opts: {
  trainThreads: number;
  replica: GradientReplica;
  recipe: ReplicaRecipe;
  optimizer: tf.Optimizer;
  log: (line: string) => void | Promise<void>;
}): Promise<DataParallelStep | null> {
  const backend = tf.getBackend();
  const threads = helperThreads(opts.trainThreads, backend);
  if (threads === 0) {
    if (opts.trainThreads > 1) await opts.log(`TRAIN_THREADS=${opts.trainThreads} ignored on backend ${backend} (it runs its own threads)`);
    return null;
  }
  const started = Date.now();
  const pool = await GradientPool.start({
    threads, recipe: opts.recipe, backend: backend as 'wasm' | 'cpu',
    weightShapes: opts.replica.weights().map((w) => w.shape), gradShapes: opts.replica.variables().map((v) => v.shape),
  });
  await opts.log(`data-parallel training on ${threads + 1} threads (${threads} gradient threads started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return new DataParallelStep(opts.replica, pool, opts.optimizer);
}
