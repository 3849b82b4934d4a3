/**
 * Training checkpoints: everything needed to resume a job where it stopped — model weights,
 * optimizer slots (Adam moments and iteration count), the tokenizer, and the position
 * (epoch, step) within the seeded batch order. Stored under DATA_DIR/checkpoints/<job id>/ and
 * replaced atomically (write a temp dir, then rename), so a crash mid-save leaves the previous
 * checkpoint intact.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { TokenizerJSON } from '../tokenize/index.ts';
import { fsyncDir, writeFileDurable } from '../store/fs-utils.ts';

type NamedTensor = { name: string; tensor: tf.Tensor };

export interface CheckpointState {
  /** Epochs fully completed. */
  epoch: number;
  /** Next step to run within epoch `epoch` (0 = start of that epoch). */
  step: number;
  tokenizer: TokenizerJSON;
  /** Translation models: the target-side tokenizer (when it differs from the source's). */
  target_tokenizer?: TokenizerJSON;
  /** Classifiers: the class names, in class-index order. */
  labels?: string[];
  last_loss: number | null;
  last_val_loss: number | null;
  trained_tokens: number;
  saved_at: string;
  /** Early-stopping state (absent in checkpoints written before it existed). */
  global_step?: number;
  elapsed_s?: number;
  bad_evals?: number;
  plateau_scale?: number;
  /** The best held-out evaluation so far; its weights are best.bin. */
  best?: { val_loss: number; epoch: number; train_loss: number | null } | null;
}

export interface LoadedCheckpoint {
  state: CheckpointState;
  modelWeights: tf.Tensor[];
  optimizerWeights: NamedTensor[];
  /** The best evaluation's weights (same order as modelWeights), when the checkpoint has them. */
  bestWeights?: tf.Tensor[];
}

async function encodeTo(file: string, tensors: NamedTensor[]): Promise<tf.io.WeightsManifestEntry[]> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileDurable(file, new Uint8Array(data));
  return specs;
}

async function decodeFrom(file: string, specs: tf.io.WeightsManifestEntry[]): Promise<tf.NamedTensorMap> {
  const buf = await fs.readFile(file);
  return tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
}

export class CheckpointDir {
  readonly dir: string;

  constructor(root: string, jobId: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(jobId)) throw new Error(`invalid job id for a checkpoint: ${jobId}`);
    this.dir = path.join(root, 'checkpoints', jobId);
  }

  /** The last complete checkpoint, or null when there is none (or it is unreadable). Tensors belong to the caller. */
  async load(): Promise<LoadedCheckpoint | null> {
    for (const dir of [this.dir, ...(await this.previousDirs())]) {
      const loaded = await this.loadFrom(dir);
      if (loaded) return loaded;
    }
    return null;
  }

  /** `<dir>.old-*` exists only when a crash hit save() between its two renames. */
  private async previousDirs(): Promise<string[]> {
    const prefix = `${path.basename(this.dir)}.old-`;
    const names = await fs.readdir(path.dirname(this.dir)).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(prefix)).map((n) => path.join(path.dirname(this.dir), n));
  }

  private async loadFrom(dir: string): Promise<LoadedCheckpoint | null> {
    let meta: { state: CheckpointState; model: tf.io.WeightsManifestEntry[]; optimizer: tf.io.WeightsManifestEntry[]; best?: tf.io.WeightsManifestEntry[] };
    try {
      meta = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8'));
    } catch {
      return null;
    }
    let model: tf.NamedTensorMap;
    let optimizer: tf.NamedTensorMap;
    let best: tf.NamedTensorMap | undefined;
    try {
      model = await decodeFrom(path.join(dir, 'model.bin'), meta.model);
      optimizer = await decodeFrom(path.join(dir, 'optimizer.bin'), meta.optimizer);
      if (meta.best) best = await decodeFrom(path.join(dir, 'best.bin'), meta.best);
    } catch {
      return null; // a damaged checkpoint: fall back to an older one, or start afresh
    }
    return {
      state: meta.state,
      modelWeights: meta.model.map((s) => model[s.name]!),
      optimizerWeights: meta.optimizer.map((s) => ({ name: s.name, tensor: optimizer[s.name]! })),
      ...(best && meta.best ? { bestWeights: meta.best.map((s) => best[s.name]!) } : {}),
    };
  }

  /** Saves a checkpoint; `best` = the best evaluation's weights (best.bin), kept across resumes. */
  async save(state: CheckpointState, weights: readonly tf.Tensor[], optimizer: tf.Optimizer, best?: readonly tf.Tensor[]): Promise<void> {
    const parent = path.dirname(this.dir);
    await fs.mkdir(parent, { recursive: true });
    const tmp = `${this.dir}.tmp-${randomBytes(6).toString('hex')}`;
    await fs.mkdir(tmp);
    try {
      const modelSpecs = await encodeTo(path.join(tmp, 'model.bin'), weights.map((t, i) => ({ name: `w${i}`, tensor: t })));
      const optWeights = await optimizer.getWeights();
      // getWeights() makes a fresh `iter` scalar each call (the slot variables are the optimizer's own).
      const optSpecs = await encodeTo(path.join(tmp, 'optimizer.bin'), optWeights).finally(() => optWeights[0]?.tensor.dispose());
      const bestSpecs = best ? await encodeTo(path.join(tmp, 'best.bin'), best.map((t, i) => ({ name: `w${i}`, tensor: t }))) : undefined;
      await writeFileDurable(path.join(tmp, 'checkpoint.json'), JSON.stringify({ state, model: modelSpecs, optimizer: optSpecs, ...(bestSpecs ? { best: bestSpecs } : {}) }));
      await fsyncDir(tmp);
      const old = `${this.dir}.old-${randomBytes(6).toString('hex')}`;
      await fs.rename(this.dir, old).catch(() => undefined);
      await fs.rename(tmp, this.dir);
      await fs.rm(old, { recursive: true, force: true });
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async remove(): Promise<void> {
    for (const dir of [this.dir, ...(await this.previousDirs())]) await fs.rm(dir, { recursive: true, force: true });
  }
}
