/**
 * A pool of gradient threads (worker_threads) for synchronous data-parallel training
 * (train/data-parallel.ts). Thread k (1-based; the main thread is shard 0) holds its own tf.js
 * backend, initialised as the main thread's (backend/select.ts), and a replica of the model built from
 * the same recipe (grad-thread.ts).
 *
 * Memory shared with every thread (SharedArrayBuffer, float32):
 * - one weight buffer: the model's weights, getWeights() order, concatenated; written by the main
 *   thread before each step, read by every thread;
 * - per thread, one gradient buffer: its shard's loss-weighted gradients, trainable variables in
 *   registration order, concatenated; written by that thread, read by the main thread after it
 *   reports the step done.
 * A step generation number (Atomics) beside each buffer publishes the writes in order.
 *
 * Failure contract: a thread that throws, crashes, exits, or leaves a step unanswered past the hung
 * limit (max(minStepTimeoutMs, 30 × the slowest step so far)) fails the pending step and every later
 * one with an Error naming the thread; `close()` terminates every thread (idempotent) and must be
 * called on every exit path of a job. `liveGradientThreads()` counts threads not yet exited.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { ReplicaRecipe, ShardInput } from './replica.ts';

/** Posted to a thread at start (workerData). */
export interface ThreadInit {
  recipe: ReplicaRecipe;
  shard: number;
  /** tf.getBackend() of the main thread: 'wasm' or 'cpu'. */
  backend: 'wasm' | 'cpu';
  weightShapes: number[][];
  gradShapes: number[][];
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** Int32 [2]: [0] = generation of the weight buffer, [1] = generation of this thread's gradients. */
  control: SharedArrayBuffer;
}

/** main → thread */
export interface StepRequest {
  type: 'step';
  generation: number;
  shard: ShardInput;
  /** The shard's share of the batch's counted targets: its mean loss is multiplied by it. */
  scale: number;
}

/** thread → main */
export type ThreadReply = { type: 'ready' } | { type: 'done'; generation: number; loss: number } | { type: 'failed'; message: string };

let live = 0;
/** Gradient threads started and not yet exited, over all pools of this process (tests assert 0 after a job). */
export const liveGradientThreads = (): number => live;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Float offsets of each shape in a concatenated buffer, and the total length. */
export function layout(shapes: number[][]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const s of shapes) {
    offsets.push(total);
    total += sizeOf(s);
  }
  return { offsets, total };
}

const THREAD_ENTRY = new URL(`./grad-thread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Starts a worker on `entry`; a .ts entry (run under tsx) registers tsx in the thread first. */
function spawn(entry: URL, workerData: ThreadInit): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

interface Helper {
  index: number;
  worker: Worker;
  grads: Float32Array;
  control: Int32Array;
  pending: { resolve: (loss: number) => void; reject: (err: Error) => void; generation: number } | null;
}

export class GradientPool {
  private failure: Error | null = null;
  /** The longest step answered so far, ms (sets the hung-thread limit). */
  private slowestMs = 0;
  private closing = false;
  private generation = 0;
  private readonly weightOffsets: number[];
  private readonly gradOffsets: number[];

  private constructor(
    private readonly helpers: Helper[],
    private readonly weightBuf: Float32Array,
    private readonly weightShapes: number[][],
    readonly gradShapes: number[][],
    private readonly minStepTimeoutMs: number,
  ) {
    this.weightOffsets = layout(weightShapes).offsets;
    this.gradOffsets = layout(gradShapes).offsets;
  }

  /** Gradient threads (the main thread not counted). */
  get size(): number {
    return this.helpers.length;
  }

  /**
   * Starts `threads` gradient threads and resolves once each has built its replica (shapes checked
   * against the main thread's); any failure closes those started and rejects.
   */
  static async start(opts: {
    threads: number;
    recipe: ReplicaRecipe;
    backend: 'wasm' | 'cpu';
    weightShapes: number[][];
    gradShapes: number[][];
    /** A step unanswered for max(this, 30 × the slowest step so far) fails as hung (default 120 s). */
    minStepTimeoutMs?: number;
  }): Promise<GradientPool> {
    const weightSab = new SharedArrayBuffer(4 * layout(opts.weightShapes).total);
    const helpers: Helper[] = [];
    for (let k = 1; k <= opts.threads; k++) {
      const grads = new SharedArrayBuffer(4 * layout(opts.gradShapes).total);
      const control = new SharedArrayBuffer(8);
      const worker = spawn(THREAD_ENTRY, { recipe: opts.recipe, shard: k, backend: opts.backend, weightShapes: opts.weightShapes, gradShapes: opts.gradShapes, weights: weightSab, grads, control });
      live++;
      helpers.push({ index: k, worker, grads: new Float32Array(grads), control: new Int32Array(control), pending: null });
    }
    const pool = new GradientPool(helpers, new Float32Array(weightSab), opts.weightShapes, opts.gradShapes, opts.minStepTimeoutMs ?? 120_000);
    try {
      await Promise.all(helpers.map((h) => pool.watch(h)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Wires a helper's events; resolves on its 'ready', rejects if it fails first. */
  private watch(h: Helper): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (err: Error) => {
        if (this.closing) return;
        if (!ready) reject(err);
        this.failWith(h, err);
      };
      h.worker.on('message', (m: ThreadReply) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'failed') {
          fail(new Error(`training thread ${h.index} failed: ${m.message}`));
        } else if (h.pending && m.generation === h.pending.generation && Atomics.load(h.control, 1) === m.generation) {
          const p = h.pending;
          h.pending = null;
          p.resolve(m.loss);
        } else {
          fail(new Error(`training thread ${h.index} answered step ${m.generation} out of turn`));
        }
      });
      h.worker.on('error', (err) => fail(new Error(`training thread ${h.index} crashed: ${err.message}`)));
      h.worker.on('exit', (code) => {
        live--;
        fail(new Error(`training thread ${h.index} exited (code ${code}) ${ready ? 'during training' : 'while starting'}`));
      });
    });
  }

  /** Marks the pool failed (the first error wins) and rejects `h`'s pending step. */
  private failWith(h: Helper, err: Error): void {
    if (this.closing) return;
    this.failure ??= err;
    const p = h.pending;
    h.pending = null;
    p?.reject(err);
  }

  /** Copies `weights` (the replica's weights() order, float32) into the shared weight buffer. */
  writeWeights(weights: tf.Tensor[]): void {
    weights.forEach((w, i) => {
      if (w.size !== sizeOf(this.weightShapes[i]!)) throw new Error(`weight ${i}: size ${w.size}, expected [${this.weightShapes[i]}]`);
      if (w.dtype !== 'float32') throw new Error(`weight ${i} is ${w.dtype}; data-parallel training needs float32 weights`);
      this.weightBuf.set(w.dataSync() as Float32Array, this.weightOffsets[i]!);
    });
  }

  /**
   * One step on the helpers: shard k (null = no rows for it) goes to thread k+1, which reads the
   * weights last written, and resolves with each thread's scaled loss (0 for null shards). Reject:
   * the pool has failed (see the file comment).
   */
  compute(shards: (({ shard: ShardInput; scale: number }) | null)[]): Promise<number[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the gradient pool is closed'));
    if (shards.length !== this.helpers.length) throw new Error(`expected ${this.helpers.length} shards, got ${shards.length}`);
    const generation = ++this.generation;
    for (const h of this.helpers) Atomics.store(h.control, 0, generation);
    const started = Date.now();
    const limit = Math.max(this.minStepTimeoutMs, 30 * this.slowestMs);
    const timer = setTimeout(() => {
      for (const h of this.helpers) {
        if (h.pending?.generation === generation) this.failWith(h, new Error(`training thread ${h.index} did not answer step ${generation} within ${(limit / 1000).toFixed(1)} s (hung)`));
      }
    }, limit);
    timer.unref();
    const all = Promise.all(
      this.helpers.map((h, k) => {
        const s = shards[k];
        if (!s) return 0;
        return new Promise<number>((resolve, reject) => {
          h.pending = { resolve, reject, generation };
          const msg: StepRequest = { type: 'step', generation, shard: s.shard, scale: s.scale };
          h.worker.postMessage(msg);
        });
      }),
    );
    return all.then(
      (losses) => {
        clearTimeout(timer);
        this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
        return losses;
      },
      (err: unknown) => {
        clearTimeout(timer);
        throw err;
      },
    );
  }

  /** Thread k's (1-based) gradient of trainable variable i, as written for the last completed step (a view: copy before the next step). */
  gradView(k: number, i: number): Float32Array {
    const off = this.gradOffsets[i]!;
    return this.helpers[k - 1]!.grads.subarray(off, off + sizeOf(this.gradShapes[i]!));
  }

  /** Terminates every thread and waits for them to exit; later steps reject. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Error('the gradient pool was closed');
    for (const h of this.helpers) {
      h.pending?.reject(closed);
      h.pending = null;
    }
    await Promise.all(this.helpers.map((h) => h.worker.terminate()));
  }
}
