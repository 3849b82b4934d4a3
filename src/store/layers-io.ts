/**
 * Saving and loading TF.js Layers models as plain files, without tfjs-node's file:// handler.
 *
 * Layout for a prefix P in a directory D:
 *   - P = 'model' (the default): `D/model.json` + `D/weights.bin` (the DESIGN.md layout);
 *   - any other P (e.g. 'encoder'): `D/P.json` + `D/P.weights.bin` (one pair per Seq2Seq sub-model).
 * The JSON file is the standard TF.js Layers model.json (`format: 'layers-model'`, `modelTopology`,
 * `weightsManifest` whose paths are relative to D), so Keras models converted with tensorflowjs
 * (which may split weights into several shards such as `group1-shard1of2.bin`) load, and models
 * saved here convert back with `tensorflowjs_converter`.
 *
 * Loading goes through tf.loadLayersModel with a custom IOHandler, so custom layers registered with
 * tf.serialization.registerClass deserialize. Weight shard paths must be plain file names inside D;
 * anything with a directory part or '..' is rejected, so loading never reads outside D.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileDurable } from './fs-utils.ts';

const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The two file names used for `prefix`: `{ json, weights }`. */
export function layersFileNames(prefix = 'model'): { json: string; weights: string } {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`layers model prefix ${JSON.stringify(prefix)} must match ${PREFIX_PATTERN.source}`);
  }
  return prefix === 'model'
    ? { json: 'model.json', weights: 'weights.bin' }
    : { json: `${prefix}.json`, weights: `${prefix}.weights.bin` };
}

/**
 * Writes `model` to `dir` (which must exist) as `<json>` + `<weights>` (see layersFileNames). The
 * weights file is written and fsynced before the JSON file, so a present JSON file implies complete
 * weights. Resolves once both files are on disk.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string, prefix = 'model'): Promise<void> {
  const names = layersFileNames(prefix);
  const handler = tf.io.withSaveHandler(async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
    if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology == null) {
      throw new Error('saveLayersModel: expected a JSON Layers topology (graph models are not supported)');
    }
    const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
    const modelJSON: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [names.weights], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
    if (artifacts.signature != null) modelJSON.signature = artifacts.signature;
    if (artifacts.userDefinedMetadata != null) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.modelInitializer != null) modelJSON.modelInitializer = artifacts.modelInitializer;
    const json = JSON.stringify(modelJSON);
    await writeFileDurable(path.join(dir, names.weights), new Uint8Array(weightData));
    await writeFileDurable(path.join(dir, names.json), json);
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: Buffer.byteLength(JSON.stringify(modelJSON.modelTopology)),
        weightSpecsBytes: Buffer.byteLength(JSON.stringify(modelJSON.weightsManifest)),
        weightDataBytes: weightData.byteLength,
      },
    };
  });
  await model.save(handler);
}

/** Throws unless `p` is a plain file name (no directory part, not '.', '..', no NUL). */
function assertPlainFileName(p: unknown, jsonFile: string): string {
  if (
    typeof p !== 'string' || p.length === 0 || p === '.' || p === '..' ||
    p.includes('/') || p.includes('\\') || p.includes('\0') || path.basename(p) !== p
  ) {
    throw new Error(`${jsonFile}: weight path ${JSON.stringify(p)} must be a plain file name in the same directory`);
  }
  return p;
}

/**
 * Reads `<dir>/<json>` and every weight shard its weightsManifest lists (in order), returning
 * the ModelArtifacts tf.loadLayersModel expects.
 */
export async function readLayersArtifacts(dir: string, prefix = 'model'): Promise<tf.io.ModelArtifacts> {
  const names = layersFileNames(prefix);
  const jsonFile = path.join(dir, names.json);
  const modelJSON = JSON.parse(await fsp.readFile(jsonFile, 'utf8')) as tf.io.ModelJSON;
  if (modelJSON == null || typeof modelJSON !== 'object' || modelJSON.modelTopology == null) {
    throw new Error(`${jsonFile}: missing modelTopology (not a TF.js Layers model.json)`);
  }
  if (!Array.isArray(modelJSON.weightsManifest)) {
    throw new Error(`${jsonFile}: missing weightsManifest`);
  }
  return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
        throw new Error(`${jsonFile}: every weightsManifest entry needs paths[] and weights[]`);
      }
      specs.push(...group.weights);
      for (const p of group.paths) {
        const buf = await fsp.readFile(path.join(dir, assertPlainFileName(p, jsonFile)));
        buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      }
    }
    return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
  });
}

/**
 * Loads the model saved by saveLayersModel (or a tensorflowjs-converted Keras model) from `dir`.
 * Rejects when a file is missing or malformed. The returned model is not compiled for training
 * unless the saved JSON carried a trainingConfig.
 */
export async function loadLayersModel(dir: string, prefix = 'model'): Promise<tf.LayersModel> {
  const artifacts = await readLayersArtifacts(dir, prefix);
  const handler: tf.io.IOHandler = { load: async () => artifacts };
  return tf.loadLayersModel(handler);
}
