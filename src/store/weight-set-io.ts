/**
 * Saving and loading the hand-built models (Seq2Seq, classifier, Transformer LM) of a version directory:
 * `<kind>.json` {format, kind, spec, weightsManifest} + `weights.bin` (the tf.io weights format, the
 * same binary layout as a TF.js model's weights, names like `encoder/lstm_0/kernel`). The weights
 * file is written and fsynced before the JSON file, so a present JSON file implies complete weights.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WeightSet } from '../arch/weight-set.ts';
import { writeFileDurable } from './fs-utils.ts';

export const WEIGHTS_FILE = 'weights.bin';
export type WeightSetKind = 'seq2seq' | 'classifier' | 'transformer';

interface WeightSetJSON<S> {
  format: 'seqserve-weights';
  kind: WeightSetKind;
  spec: S;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export const weightSetFile = (kind: WeightSetKind) => `${kind}.json`;

export async function saveWeightSet<S>(dir: string, kind: WeightSetKind, spec: S, ws: WeightSet): Promise<void> {
  const named = ws.snapshot();
  try {
    const { data, specs } = await tf.io.encodeWeights(named);
    await writeFileDurable(path.join(dir, WEIGHTS_FILE), new Uint8Array(data));
    const json: WeightSetJSON<S> = { format: 'seqserve-weights', kind, spec, weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }] };
    await writeFileDurable(path.join(dir, weightSetFile(kind)), JSON.stringify(json));
  } finally {
    tf.dispose(named.map((n) => n.tensor));
  }
}

/** Reads the spec; `build(spec)` makes the model, whose WeightSet is then filled from weights.bin. */
export async function loadWeightSet<S, M extends { ws: WeightSet; dispose(): void }>(dir: string, kind: WeightSetKind, build: (spec: S) => M): Promise<M> {
  const file = path.join(dir, weightSetFile(kind));
  const json = JSON.parse(await fsp.readFile(file, 'utf8')) as WeightSetJSON<S>;
  if (json?.format !== 'seqserve-weights' || json.kind !== kind || !Array.isArray(json.weightsManifest)) throw new Error(`${file}: not a seqserve ${kind} weights file`);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buf = await fsp.readFile(path.join(dir, WEIGHTS_FILE));
  const values = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, specs);
  const model = build(json.spec);
  try {
    model.ws.load(values);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(values));
  }
}
