/**
 * ModelStore (registry.ts), model names/refs (model-ref.ts) and Layers model files (layers-io.ts),
 * against real directories from t.testdir().
 */
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../../src/errors.ts';
import { loadLayersModel, saveLayersModel } from '../../src/store/layers-io.ts';
import type { ManifestInput } from '../../src/store/manifest.ts';
import { parseModelRef, validateModelName } from '../../src/store/model-ref.ts';
import { ModelStore } from '../../src/store/registry.ts';

function manifestInput(extra: Partial<ManifestInput> = {}): ManifestInput {
  return {
    task: 'generate',
    architecture: 'lstm',
    hyperparameters: { units: 8 },
    tokenizer: { type: 'char', vocab_size: 10 },
    metrics: { perplexity: 3.5, val_loss: 1.25 },
    dataset: { sha256: 'a'.repeat(64), bytes: 100 },
    training: { epochs_completed: 1 },
    backend: 'cpu',
    created_at: new Date().toISOString(),
    ...extra,
  };
}

const writeWeights = async (dir: string): Promise<void> => {
  await fsp.writeFile(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3]));
};

async function rejectsCode(t: Test, p: Promise<unknown>, code: string, msg: string): Promise<void> {
  try {
    await p;
    t.fail(`${msg}: expected ${code}, resolved`);
  } catch (err) {
    t.ok(err instanceof ServiceError, `${msg}: is a ServiceError`);
    t.equal((err as ServiceError).code, code, msg);
  }
}

t.test('publish twice, resolve by name and version', async (t) => {
  const dir = t.testdir();
  const store = new ModelStore(dir);
  const a = await store.publish('m', writeWeights, manifestInput());
  const b = await store.publish('m', writeWeights, manifestInput({ metrics: { perplexity: 2 } }));
  t.equal(a.version, 1);
  t.equal(b.version, 2);
  t.equal((await fsp.readFile(path.join(dir, 'm', 'LATEST'), 'utf8')).trim(), '2');
  t.equal(await store.latestVersion('m'), 2);
  t.equal(await store.latestVersion('nope'), undefined);

  const latest = await store.resolve('m');
  t.equal(latest.version, 2);
  t.equal(latest.manifest.name, 'm');
  t.equal(latest.manifest.version, 2);
  t.equal(latest.manifest.metrics.perplexity, 2);
  t.equal(latest.dir, path.join(path.resolve(dir), 'm', '2'));
  t.ok((await fsp.stat(path.join(latest.dir, 'weights.bin'))).isFile());

  t.equal((await store.resolve('m@1')).version, 1);
  t.equal((await store.resolve({ name: 'm', version: 1 })).version, 1);
  await rejectsCode(t, store.resolve('m@9'), 'version_not_found', 'missing version');
  await rejectsCode(t, store.resolve('unknown'), 'model_not_found', 'unknown model');
  await rejectsCode(t, store.resolve('unknown@1'), 'model_not_found', 'unknown model with version');
  await rejectsCode(t, store.resolve('m@0'), 'invalid_parameter', 'version 0');
  await rejectsCode(t, store.resolve('m@x'), 'invalid_parameter', 'non-numeric version');

  const details = await store.get('m');
  t.equal(details.latest, 2);
  t.same(details.versions.map((v) => v.version), [1, 2]);
  await rejectsCode(t, store.get('zzz'), 'model_not_found', 'get unknown');

  const list = await store.list();
  t.equal(list.length, 1);
  t.match(list[0], { name: 'm', latest: 2, versions: 2, task: 'generate', architecture: 'lstm' });
});

t.test('write returning manifest fields merges them; name/version are the store\'s', async (t) => {
  const store = new ModelStore(t.testdir());
  const { version } = await store.publish('p', async () => ({ metrics: { val_loss: 0.5 }, name: 'evil', labels: ['x'] }), manifestInput());
  const r = await store.resolve('p');
  t.equal(version, 1);
  t.equal(r.manifest.name, 'p');
  t.same(r.manifest.metrics, { val_loss: 0.5 });
  t.same(r.manifest.labels, ['x']);
});

t.test('failed publish leaves nothing behind', async (t) => {
  const dir = t.testdir();
  const store = new ModelStore(dir);
  await store.publish('m', writeWeights, manifestInput());
  let seenTmp = '';
  await t.rejects(
    store.publish('m', async (tmp) => {
      seenTmp = tmp;
      await writeWeights(tmp);
      throw new Error('boom');
    }, manifestInput()),
    { message: 'boom' },
  );
  t.ok(path.basename(seenTmp).startsWith('.tmp-'), 'write got a temp dir');
  t.same((await fsp.readdir(path.join(dir, 'm'))).sort(), ['1', 'LATEST'], 'no version 2, no temp dir');
  t.equal(await store.latestVersion('m'), 1);

  // a failing first publish does not leave an empty model behind
  await t.rejects(store.publish('fresh', async () => { throw new Error('nope'); }, manifestInput()));
  t.same(await fsp.readdir(dir), ['m']);
  t.same((await store.list()).map((m) => m.name), ['m']);

  // an invalid manifest is refused before anything becomes visible
  await t.rejects(store.publish('m', writeWeights, manifestInput({ task: 'bogus' as never })), /task must be one of/);
  t.same((await fsp.readdir(path.join(dir, 'm'))).sort(), ['1', 'LATEST']);
});

t.test('bad model names are rejected', async (t) => {
  const store = new ModelStore(t.testdir());
  for (const bad of ['../x', 'A', 'a/b', '', 'a'.repeat(65), 'a..b', 'a\\b', 'a\0b', '.hidden', '-x']) {
    t.throws(() => validateModelName(bad), { code: 'invalid_model_name' }, `validate ${JSON.stringify(bad)}`);
    await rejectsCode(t, store.publish(bad, writeWeights, manifestInput()), 'invalid_model_name', `publish ${JSON.stringify(bad)}`);
    await rejectsCode(t, store.get(bad), 'invalid_model_name', `get ${JSON.stringify(bad)}`);
  }
  t.equal(validateModelName('a'.repeat(64)), 'a'.repeat(64));
  t.equal(validateModelName('my-lm_2.0'), 'my-lm_2.0');
  t.throws(() => validateModelName('A', 'model'), { message: /model.*\^\[a-z0-9\]/ }, 'message names field and pattern');
  t.same(parseModelRef('my-lm@12'), { name: 'my-lm', version: 12 });
  t.same(parseModelRef('my-lm'), { name: 'my-lm' });
  t.throws(() => parseModelRef('m@01'), { code: 'invalid_parameter' });
  t.throws(() => parseModelRef('m@-1'), { code: 'invalid_parameter' });
  t.throws(() => parseModelRef('../m@1'), { code: 'invalid_model_name' });
});

t.test('deleteVersion moves LATEST; deleting the last version removes the model', async (t) => {
  const dir = t.testdir();
  const store = new ModelStore(dir);
  for (let i = 0; i < 3; i++) await store.publish('m', writeWeights, manifestInput());
  await store.deleteVersion('m', 3);
  t.equal(await store.latestVersion('m'), 2);
  t.equal((await store.resolve('m')).version, 2);
  await store.deleteVersion('m', 1);
  t.equal(await store.latestVersion('m'), 2);
  await rejectsCode(t, store.deleteVersion('m', 1), 'version_not_found', 'already deleted');
  await store.deleteVersion('m', 2);
  t.equal(await store.latestVersion('m'), undefined);
  t.same(await fsp.readdir(dir), [], 'model dir removed');
  await rejectsCode(t, store.resolve('m'), 'model_not_found', 'gone');

  // numbering continues from the highest existing version
  await store.publish('n', writeWeights, manifestInput());
  await store.publish('n', writeWeights, manifestInput());
  await store.deleteVersion('n', 1);
  t.equal((await store.publish('n', writeWeights, manifestInput())).version, 3);

  await store.deleteModel('n');
  await rejectsCode(t, store.get('n'), 'model_not_found', 'deleted model');
  await rejectsCode(t, store.deleteModel('n'), 'model_not_found', 'delete twice');
  t.same(await fsp.readdir(dir), []);
});

t.test('concurrent publishes get distinct versions and LATEST is the highest', async (t) => {
  const store = new ModelStore(t.testdir());
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      store.publish('c', async (tmp) => {
        await fsp.writeFile(path.join(tmp, 'weights.bin'), String(i));
        return { hyperparameters: { i } };
      }, manifestInput()),
    ),
  );
  t.same(results.map((r) => r.version).sort(), [1, 2, 3, 4, 5]);
  t.equal(await store.latestVersion('c'), 5);
  for (const r of results) {
    const m = (await store.resolve({ name: 'c', version: r.version })).manifest;
    t.equal(m.version, r.version, 'manifest carries its final version');
  }
  t.equal((await store.get('c')).versions.length, 5);
});

t.test('list skips broken entries and temp dirs', async (t) => {
  const dir = t.testdir({
    broken: { '1': { 'manifest.json': '{not json' }, LATEST: '1' },
    empty: {},
    '.tmp-abc': {},
    'Bad Name': { '1': { 'manifest.json': '{}' } },
  });
  const store = new ModelStore(dir);
  await store.publish('good', writeWeights, manifestInput());
  t.same((await store.list()).map((m) => m.name), ['good']);
  await t.rejects(store.resolve('broken'), /broken@1/, 'broken manifest is an internal error naming the file');
});

t.test('saveLayersModel / loadLayersModel round trip', async (t) => {
  const dir = t.testdir();
  const model = tf.sequential();
  model.add(tf.layers.embedding({ inputDim: 12, outputDim: 4, inputLength: 5 }));
  model.add(tf.layers.lstm({ units: 6 }));
  model.add(tf.layers.dense({ units: 12, activation: 'softmax' }));
  const input = tf.tensor2d([[1, 2, 3, 4, 5], [0, 11, 7, 3, 1]], [2, 5], 'int32');
  const before = (model.predict(input) as tf.Tensor).arraySync();

  await saveLayersModel(model, dir);
  t.same((await fsp.readdir(dir)).sort(), ['model.json', 'weights.bin']);
  const json = JSON.parse(await fsp.readFile(path.join(dir, 'model.json'), 'utf8'));
  t.equal(json.format, 'layers-model');
  t.same(json.weightsManifest[0].paths, ['weights.bin']);

  const loaded = await loadLayersModel(dir);
  const after = (loaded.predict(input) as tf.Tensor).arraySync();
  t.same(after, before, 'identical predictions');

  await saveLayersModel(model, dir, 'encoder');
  t.ok((await fsp.stat(path.join(dir, 'encoder.json'))).isFile());
  t.ok((await fsp.stat(path.join(dir, 'encoder.weights.bin'))).isFile());
  const enc = await loadLayersModel(dir, 'encoder');
  t.same((enc.predict(input) as tf.Tensor).arraySync(), before);

  // weight paths pointing outside the directory are refused
  json.weightsManifest[0].paths = ['../weights.bin'];
  await fsp.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  await t.rejects(loadLayersModel(dir), /plain file name/);
  await t.rejects(saveLayersModel(model, dir, '../x'), /prefix/, 'unsafe prefix refused');
  model.dispose();
  loaded.dispose();
  enc.dispose();
  input.dispose();
});

/** A tiny custom layer (y = x * w) to prove the registry of tf.serialization is honoured on load. */
class ScaleLayer extends tf.layers.Layer {
  static className = 'StoreTestScale';
  private scale!: tf.LayerVariable;
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.scale = this.addWeight('scale', [shape[shape.length - 1] as number], 'float32', tf.initializers.randomNormal({ seed: 1 }));
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.scale.read()));
  }
  override getClassName(): string {
    return ScaleLayer.className;
  }
}
tf.serialization.registerClass(ScaleLayer);

t.test('custom registered layers round trip', async (t) => {
  const dir = t.testdir();
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 3, inputShape: [2] }));
  model.add(new ScaleLayer({}));
  const x = tf.tensor2d([[1, 2], [3, -1]]);
  const before = (model.predict(x) as tf.Tensor).arraySync();
  await saveLayersModel(model, dir, 'decoder');
  t.same((await fsp.readdir(dir)).sort(), ['decoder.json', 'decoder.weights.bin']);
  const loaded = await loadLayersModel(dir, 'decoder');
  t.equal(loaded.layers[1].getClassName(), 'StoreTestScale');
  t.same((loaded.predict(x) as tf.Tensor).arraySync(), before);
  model.dispose();
  loaded.dispose();
  x.dispose();
});
