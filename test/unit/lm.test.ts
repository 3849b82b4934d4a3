// The recurrent LM: stateful stepping equals the full-sequence model; training data windows; checkpoints.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { buildLanguageModel } from '../../src/arch/lm.ts';
import { RecurrentLanguageModel, disposeState } from '../../src/arch/lm-step.ts';
import { encodeCorpus } from '../../src/tasks/lm-encoding.ts';
import { epochPlan, splitTrainVal, validationBatches } from '../../src/train/lm-data.ts';
import { CheckpointDir } from '../../src/train/checkpoint.ts';
import { fitTokenizer, BOS_ID, EOS_ID } from '../../src/tokenize/index.ts';

await initBackend('wasm');

for (const architecture of ['lstm', 'gru'] as const) {
  t.test(`${architecture}: prefill + steps give the full model's logits at every position`, async (t) => {
    const model = buildLanguageModel({ vocabSize: 11, architecture, layers: 2, units: 8, embeddingDim: 4, dropout: 0.2, seed: 1 });
    const lm = new RecurrentLanguageModel(model, architecture);
    const ids = [1, 5, 7, 3, 9, 4];
    const before = tf.memory().numTensors;
    const full = tf.tidy(() => (model.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor).squeeze([0]).arraySync() as number[][]);
    let { state, logits } = await lm.prefill(ids.slice(0, 2));
    let maxDiff = Math.max(...(logits.arraySync()[0]!.map((v, j) => Math.abs(v - full[1]![j]!))));
    for (let p = 2; p < ids.length; p++) {
      const next = lm.step(Int32Array.of(ids[p]!), state);
      disposeState(state);
      logits.dispose();
      ({ state, logits } = next);
      maxDiff = Math.max(maxDiff, ...logits.arraySync()[0]!.map((v, j) => Math.abs(v - full[p]![j]!)));
    }
    disposeState(state);
    logits.dispose();
    t.ok(maxDiff < 1e-5, `max |Δ| = ${maxDiff}`);
    t.equal(tf.memory().numTensors, before, 'stepping leaves no tensors');

    // The fused prefill (chunked: 4 ids per chunk here) reaches the same state as stepping id by id.
    for (const chunk of [4, 64]) {
      const fused = await lm.prefillRows([ids], chunk);
      const stepped = await lm.prefill(ids);
      const d = Math.max(...fused.h.concat(fused.c).map((x, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(x, stepped.state.h.concat(stepped.state.c)[i]!))).dataSync()[0]!)));
      t.ok(d < 1e-5, `fused prefill (chunks of ${chunk}) = stepped prefill: max |Δ| = ${d}`);
      [fused, stepped.state].forEach(disposeState);
      stepped.logits.dispose();
    }
    t.equal(tf.memory().numTensors, before, 'prefilling leaves no tensors');

    const batched = lm.initialState(3);
    const out = lm.step(Int32Array.of(1, 2, 3), batched);
    t.same(out.logits.shape, [3, 11]);
    const rows = RecurrentLanguageModel.selectRows(out.state, [2, 0]);
    t.same(rows.h[0]!.shape, [2, 8]);
    const joined = RecurrentLanguageModel.concatRows([rows, rows]);
    t.same(joined.h[1]!.shape, [4, 8]);
    [batched, out.state, rows, joined].forEach(disposeState);
    out.logits.dispose();
    lm.dispose();
    model.dispose();
  });
}

t.test('a model without the expected layers is refused and leaves no tensors', async (t) => {
  const model = buildLanguageModel({ vocabSize: 7, architecture: 'gru', layers: 1, units: 4, embeddingDim: 3, dropout: 0, seed: 1 });
  const before = tf.memory().numTensors;
  t.throws(() => new RecurrentLanguageModel(model, 'lstm'), /no layer "lstm_0"/);
  t.equal(tf.memory().numTensors, before);
  model.dispose();
});

t.test('corpus windows', async (t) => {
  const tok = fitTokenizer('char', ['abcabc', 'xyz'], { maxVocab: 50 });
  const ids = encodeCorpus(['abcabc', 'xyz'], tok);
  t.same([...ids].slice(0, 1), [BOS_ID]);
  t.equal(ids[7], EOS_ID, 'records are separated by <eos> <bos>');
  t.equal(ids[8], BOS_ID);
  const { train, val } = splitTrainVal(Int32Array.from({ length: 100 }, (_, i) => i), 0.1);
  t.equal(train.length, 90);
  t.same([...val], [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  const all = (epoch: number) => {
    const plan = epochPlan(train, 8, 4, 42, epoch);
    return Array.from({ length: plan.steps }, (_, k) => plan.batch(k));
  };
  const a = all(0);
  t.same(a, all(0), 'the batch order depends only on (seed, epoch)');
  t.notSame(a, all(1), 'another epoch, another order');
  t.equal(a.reduce((n, b) => n + b.rows, 0), 10, 'every window once: (90 - offset - 1) / 8 rounded down');
  for (const batch of a) {
    for (let r = 0; r < batch.rows; r++) {
      for (let i = 0; i < 8; i++) if (batch.y[r * 8 + i] !== batch.x[r * 8 + i]! + 1) t.fail('y is x shifted by one');
    }
  }
  const v = validationBatches(val, 64, 4);
  t.equal(v[0]!.seqLen, 9, 'validation windows shrink to fit a short split');
});

t.test('checkpoint round trip restores weights, optimizer and position', async (t) => {
  const dir = t.testdir();
  const ckpt = new CheckpointDir(dir, '17');
  t.equal(await ckpt.load(), null);
  const model = buildLanguageModel({ vocabSize: 9, architecture: 'lstm', layers: 1, units: 4, embeddingDim: 3, dropout: 0, seed: 2 });
  const opt = tf.train.adam(0.01);
  const x = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  opt.minimize(() => tf.mean(model.apply(x) as tf.Tensor) as tf.Scalar);
  const tok = fitTokenizer('char', ['abc'], { maxVocab: 10 });
  await ckpt.save({ epoch: 3, step: 5, tokenizer: tok.toJSON(), last_loss: 1.5, last_val_loss: null, trained_tokens: 99, saved_at: 'now' }, model.getWeights(), opt);
  const loaded = await ckpt.load();
  t.equal(loaded!.state.epoch, 3);
  t.equal(loaded!.state.step, 5);
  const original = model.getWeights().map((w) => w.arraySync());
  t.same(loaded!.modelWeights.map((w) => w.arraySync()), original);
  const optWeights = await opt.getWeights();
  t.equal(loaded!.optimizerWeights.length, optWeights.length);
  t.same(loaded!.optimizerWeights.map((w) => w.name), optWeights.map((w) => w.name));
  // A crash between save()'s two renames leaves only `<dir>.old-*`: it is still found.
  const { rename } = await import('node:fs/promises');
  await rename(ckpt.dir, `${ckpt.dir}.old-abc123`);
  const recovered = await ckpt.load();
  t.equal(recovered?.state.step, 5, 'the previous checkpoint survives a crash mid-save');
  tf.dispose([...recovered!.modelWeights, ...recovered!.optimizerWeights.map((w) => w.tensor)]);
  await ckpt.remove();
  t.equal(await ckpt.load(), null);
  tf.dispose([x, ...loaded!.modelWeights, ...loaded!.optimizerWeights.map((w) => w.tensor)]);
});
