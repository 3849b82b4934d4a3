/**
 * What a data-parallel training step needs from a model, on every thread alike (train/data-parallel.ts,
 * train/grad-thread.ts): its weights to copy in and out, its trainable variables in a fixed order, and
 * the loss of one shard of a batch. The main thread's model and each gradient thread's replica are
 * built from the same recipe, so index i means the same weight on every thread.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainJobData } from '../queue/contract.ts';

/** A contiguous block of rows of one batch: ids x, y [rows, seqLen] (int32, row-major). */
export interface ShardInput {
  rows: number;
  seqLen: number;
  x: Int32Array;
  y: Int32Array;
  /** The dropout seed of this shard's training pass (distinct per shard, deterministic per step). */
  seed: number;
}

export interface GradientReplica {
  /** Every weight in the model's getWeights() order (read, not owned). */
  weights(): tf.Tensor[];
  /** Copies `weights` (weights() order) in; the caller keeps them. */
  setWeights(weights: tf.Tensor[]): void;
  /**
   * The trainable variables in the engine's registration order: the key order `tf.variableGrads(f)`
   * gives by default, which Adam's per-position moments depend on.
   */
  variables(): tf.Variable[];
  /** Mean loss over the counted targets of `shard`, dropout on (a training pass); call inside tf.tidy. */
  loss(shard: ShardInput): tf.Scalar;
  /** How many targets of y count toward the loss (the shard's weight in the batch mean). */
  counted(y: Int32Array): number;
  dispose(): void;
}

/** Everything `buildWindowModel` needs to rebuild a window LM (plain data: it is posted to gradient threads). */
export interface WindowRecipe {
  kind: 'window';
  job: TrainJobData;
  vocabSize: number;
  trainTokens: number;
  /** Target id the loss skips (-1 = none). */
  ignoreId: number;
}

/** What a gradient thread rebuilds its replica from (grad-thread.ts dispatches on `kind`). */
export type ReplicaRecipe = WindowRecipe;

/** `vars` sorted by the engine's registration order (see GradientReplica.variables). */
export function inRegistrationOrder(vars: tf.Variable[]): tf.Variable[] {
  const order = new Map(Object.keys(tf.engine().registeredVariables).map((name, i) => [name, i]));
  for (const v of vars) if (!order.has(v.name)) throw new Error(`variable ${v.name} is not registered with the engine`);
  return [...vars].sort((a, b) => order.get(a.name)! - order.get(b.name)!);
}

/** Shard k's dropout seed from the step's seed: shard 0 keeps it (so it matches a one-thread step). */
export const shardSeed = (stepSeed: number, shard: number): number => (shard === 0 ? stepSeed : (stepSeed + Math.imul(shard, 0x9e3779b1)) >>> 0);
