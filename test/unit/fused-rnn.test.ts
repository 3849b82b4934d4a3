// Fused recurrent layers: same outputs, gradients and weights as tf.layers.lstm (sigmoid gates).
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.ts';
import { FusedLSTM, fusedLstm } from '../../src/arch/fused-lstm.ts';
import { FusedGRU } from '../../src/arch/fused-gru.ts';
import { saveLayersModel, loadLayersModel } from '../../src/store/layers-io.ts';
import { RecurrentLanguageModel, disposeState } from '../../src/arch/lm-step.ts';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** One-layer models (standard and fused) with the same random weights; x [B, T, In]. */
function pair(In: number, H: number, seed: number, returnSequences = true) {
  const std = tf.sequential({
    layers: [tf.layers.lstm({ units: H, returnSequences, recurrentActivation: 'sigmoid', unitForgetBias: true, inputShape: [null, In], name: 'lstm_0', recurrentInitializer: 'glorotUniform' })],
  });
  const fused = tf.sequential({ layers: [new FusedLSTM({ units: H, returnSequences, inputShape: [null, In], name: 'lstm_0', recurrentInitializer: 'glorotUniform' })] });
  const ws = std.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i));
  std.setWeights(ws);
  fused.setWeights(ws);
  tf.dispose(ws);
  return { std, fused };
}

for (const backend of ['wasm', 'cpu'] as const) {
  t.test(`${backend}: forward and gradients equal tf.layers.lstm`, async (t) => {
    await initBackend(backend);
    for (const [B, T, In, H] of [[2, 5, 3, 4], [3, 2, 2, 3], [4, 7, 6, 8]] as const) {
      const { std, fused } = pair(In, H, 10 * B + T);
      t.same(fused.getWeights().map((w) => w.shape), std.getWeights().map((w) => w.shape), 'same weight shapes');
      t.same(fused.weights.map((w) => w.originalName), std.weights.map((w) => w.originalName), 'same weight names');
      const x = tf.randomNormal([B, T, In], 0, 1, 'float32', 7);
      const target = tf.randomNormal([B, T, H], 0, 1, 'float32', 8);
      const before = tf.memory().numTensors;
      const yStd = std.predict(x) as tf.Tensor;
      const yFused = fused.predict(x) as tf.Tensor;
      t.same(yFused.shape, [B, T, H]);
      t.ok(maxAbsDiff(yStd, yFused) < 1e-5, `[${B},${T},${In},${H}] forward max |Δ| = ${maxAbsDiff(yStd, yFused)}`);
      tf.dispose([yStd, yFused]);

      // Loss weighs every position differently so that every output's gradient matters.
      const grads = (model: tf.LayersModel) =>
        tf.tidy(() => {
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const f = (xx: tf.Tensor) => tf.sum(tf.mul(model.apply(xx) as tf.Tensor, target)) as tf.Scalar;
          const { grads: gv } = tf.variableGrads(() => f(x), vars);
          const gx = tf.grad(f)(x);
          return [gx, ...vars.map((v) => gv[v.name]!)];
        });
      const gStd = grads(std);
      const gFused = grads(fused);
      const names = ['input', 'kernel', 'recurrent_kernel', 'bias'];
      gStd.forEach((g, i) => {
        const d = maxAbsDiff(g, gFused[i]!);
        t.ok(d < 1e-5, `[${B},${T},${In},${H}] d/d${names[i]} max |Δ| = ${d}`);
      });
      tf.dispose([...gStd, ...gFused]);
      t.equal(tf.memory().numTensors, before, 'forward + gradients leave no tensors');
      tf.dispose([x, target]);
      std.dispose();
      fused.dispose();
    }
  });

  t.test(`${backend}: returnState, returnSequences=false and initial states`, async (t) => {
    await initBackend(backend);
    const [B, T, In, H] = [2, 4, 3, 5];
    const { std, fused } = pair(In, H, 3, false);
    const x = tf.randomNormal([B, T, In], 0, 1, 'float32', 4);
    const a = std.predict(x) as tf.Tensor;
    const b = fused.predict(x) as tf.Tensor;
    t.same(b.shape, [B, H]);
    t.ok(maxAbsDiff(a, b) < 1e-5, 'last step equals tf.layers.lstm');
    // fusedLstm with states: run in two halves from the carried state == one run.
    const [W, U, bias] = fused.getWeights().map((w) => w.clone()) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const whole = fusedLstm(x as tf.Tensor3D, W, U, bias, { returnState: true });
    const x1 = tf.slice(x, [0, 0, 0], [B, 2, In]) as tf.Tensor3D;
    const x2 = tf.slice(x, [0, 2, 0], [B, 2, In]) as tf.Tensor3D;
    const first = fusedLstm(x1, W, U, bias, { returnState: true });
    const second = fusedLstm(x2, W, U, bias, { h0: first.h!, c0: first.c!, returnState: true });
    t.ok(maxAbsDiff(whole.h!, second.h!) < 1e-6 && maxAbsDiff(whole.c!, second.c!) < 1e-6, 'carried state');
    t.ok(maxAbsDiff(whole.h!, b) < 1e-6, 'final h is the last output');
    // Gradient through the final states and h0/c0 against autograd of an op-by-op reference.
    const h0 = tf.randomNormal([B, H], 0, 1, 'float32', 5) as tf.Tensor2D;
    const c0 = tf.randomNormal([B, H], 0, 1, 'float32', 6) as tf.Tensor2D;
    const ref = (xx: tf.Tensor, hh: tf.Tensor, cc: tf.Tensor) => {
      let h = hh as tf.Tensor2D, c = cc as tf.Tensor2D;
      let acc = tf.scalar(0);
      for (let s = 0; s < T; s++) {
        const z = tf.add(tf.add(tf.matMul(tf.squeeze(tf.slice(xx, [0, s, 0], [B, 1, In]), [1]), W), tf.matMul(h, U)), bias);
        const [i, f, g, o] = tf.split(z, 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!)));
        h = tf.mul(tf.sigmoid(o!), tf.tanh(c));
        acc = tf.add(acc, tf.mul(tf.sum(h), s + 1));
      }
      return tf.add(acc, tf.add(tf.sum(tf.mul(h, 0.3)), tf.sum(tf.mul(c, -0.7)))) as tf.Scalar;
    };
    const mine = (xx: tf.Tensor, hh: tf.Tensor, cc: tf.Tensor) => {
      const r = fusedLstm(xx as tf.Tensor3D, W, U, bias, { h0: hh as tf.Tensor2D, c0: cc as tf.Tensor2D, returnState: true });
      const wt = tf.reshape(tf.range(1, T + 1), [1, T, 1]);
      return tf.add(tf.sum(tf.mul(r.output, wt)), tf.add(tf.sum(tf.mul(r.h!, 0.3)), tf.sum(tf.mul(r.c!, -0.7)))) as tf.Scalar;
    };
    const gr = tf.grads(ref)([x, h0, c0]);
    const gm = tf.grads(mine)([x, h0, c0]);
    ['x', 'h0', 'c0'].forEach((n, i) => t.ok(maxAbsDiff(gr[i]!, gm[i]!) < 1e-5, `d/d${n} max |Δ| = ${maxAbsDiff(gr[i]!, gm[i]!)}`));
    tf.dispose([a, b, x, x1, x2, W, U, bias, h0, c0, ...gr, ...gm, whole.output, whole.h!, whole.c!, first.output, first.h!, first.c!, second.output, second.h!, second.c!]);
    std.dispose();
    fused.dispose();
  });

  t.test(`${backend}: a training step leaves tensor count unchanged and moves the weights like tf.layers.lstm`, async (t) => {
    await initBackend(backend);
    const V = 11, E = 4, H = 6, B = 3, T = 5;
    const build = (fusedLayer: boolean) =>
      tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }) }),
          fusedLayer
            ? new FusedLSTM({ units: H, name: 'lstm_0', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
            : tf.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true, name: 'lstm_0', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.dense({ units: V, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
    const ids = tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i * 7) % V), [B, T], 'int32');
    const y = tf.oneHot(tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i * 3 + 1) % V), [B, T], 'int32'), V);
    const trained: tf.Tensor[][] = [];
    for (const fusedLayer of [false, true]) {
      const model = build(fusedLayer);
      const opt = tf.train.adam(1e-2);
      const step = () => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(ids) as tf.Tensor) as tf.Scalar, false);
      step();
      const before = tf.memory().numTensors;
      step();
      step();
      t.equal(tf.memory().numTensors, before, `${fusedLayer ? 'fused' : 'standard'}: no tensors leaked by a training step`);
      trained.push(model.getWeights().map((w) => w.clone()));
      opt.dispose();
      model.dispose();
    }
    const d = Math.max(...trained[0]!.map((w, i) => maxAbsDiff(w, trained[1]![i]!)));
    t.ok(d < 1e-4, `weights after 3 Adam steps agree: max |Δ| = ${d}`);
    tf.dispose([ids, y, ...trained.flat()]);
  });
}

t.test('serialization: save/load round trip through layers-io, and weights interchange with tf.layers.lstm', async (t) => {
  await initBackend('wasm');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fused-rnn-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const input = tf.input({ shape: [null], dtype: 'int32', name: 'ids' });
  let x = tf.layers.embedding({ inputDim: 9, outputDim: 3, name: 'embedding' }).apply(input) as tf.SymbolicTensor;
  x = new FusedLSTM({ units: 5, name: 'lstm_0', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: 'glorotUniform' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 9, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits });
  const ids = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]], [2, 4], 'int32');
  const y0 = model.predict(ids) as tf.Tensor;
  await saveLayersModel(model, dir);
  const loaded = await loadLayersModel(dir);
  t.ok(loaded.getLayer('lstm_0') instanceof FusedLSTM, 'layer class restored');
  const cfg = (loaded.getLayer('lstm_0') as FusedLSTM).getConfig();
  t.equal(cfg.units, 5);
  t.equal(cfg.returnSequences, true);
  const y1 = loaded.predict(ids) as tf.Tensor;
  t.ok(maxAbsDiff(y0, y1) < 1e-7, 'same predictions after load');

  // The standard layer takes the fused layer's weights (and vice versa) and computes the same thing.
  const stdIn = tf.input({ shape: [null], dtype: 'int32', name: 'ids' });
  let s = tf.layers.embedding({ inputDim: 9, outputDim: 3, name: 'embedding' }).apply(stdIn) as tf.SymbolicTensor;
  s = tf.layers.lstm({ units: 5, returnSequences: true, recurrentActivation: 'sigmoid', name: 'lstm_0', recurrentInitializer: 'glorotUniform' }).apply(s) as tf.SymbolicTensor;
  const std = tf.model({ inputs: stdIn, outputs: tf.layers.dense({ units: 9, name: 'logits' }).apply(s) as tf.SymbolicTensor });
  std.setWeights(model.getWeights());
  const y2 = std.predict(ids) as tf.Tensor;
  t.ok(maxAbsDiff(y0, y2) < 1e-5, `standard layer with the fused weights: max |Δ| = ${maxAbsDiff(y0, y2)}`);
  tf.dispose([ids, y0, y1, y2]);
  model.dispose();
  loaded.dispose();
  std.dispose();
});

for (const backend of ['wasm', 'cpu'] as const) {
  t.test(`${backend}: FusedGRU forward and gradients equal tf.layers.gru`, async (t) => {
    await initBackend(backend);
    for (const [B, T, In, H] of [[2, 5, 3, 4], [3, 1, 2, 3], [4, 7, 6, 8]] as const) {
      const std = tf.sequential({ layers: [tf.layers.gru({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [null, In], name: 'gru_0', recurrentInitializer: 'glorotUniform' })] });
      const fused = tf.sequential({ layers: [new FusedGRU({ units: H, inputShape: [null, In], name: 'gru_0', recurrentInitializer: 'glorotUniform' })] });
      t.same(fused.weights.map((w) => [w.originalName, w.shape]), std.weights.map((w) => [w.originalName, w.shape]), 'same weight names and shapes');
      const ws = std.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', B + T + i));
      std.setWeights(ws);
      fused.setWeights(ws);
      tf.dispose(ws);
      const x = tf.randomNormal([B, T, In], 0, 1, 'float32', 7);
      const target = tf.randomNormal([B, T, H], 0, 1, 'float32', 8);
      const before = tf.memory().numTensors;
      const yStd = std.predict(x) as tf.Tensor;
      const yFused = fused.predict(x) as tf.Tensor;
      t.ok(maxAbsDiff(yStd, yFused) < 1e-5, `[${B},${T},${In},${H}] forward max |Δ| = ${maxAbsDiff(yStd, yFused)}`);
      tf.dispose([yStd, yFused]);
      const grads = (model: tf.LayersModel) =>
        tf.tidy(() => {
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const f = (xx: tf.Tensor) => tf.sum(tf.mul(model.apply(xx) as tf.Tensor, target)) as tf.Scalar;
          const { grads: gv } = tf.variableGrads(() => f(x), vars);
          return [tf.grad(f)(x), ...vars.map((v) => gv[v.name]!)];
        });
      if (T > 1) { // tf.layers.gru's own gradient fails for T = 1 (tf.stack of one step); forward is still checked
        const gStd = grads(std);
        const gFused = grads(fused);
        ['input', 'kernel', 'recurrent_kernel', 'bias'].forEach((n, i) => {
          const d = maxAbsDiff(gStd[i]!, gFused[i]!);
          t.ok(d < 1e-5, `[${B},${T},${In},${H}] d/d${n} max |Δ| = ${d}`);
        });
        tf.dispose([...gStd, ...gFused]);
      } else {
        tf.dispose(grads(fused));
      }
      t.equal(tf.memory().numTensors, before, 'forward + gradients leave no tensors');
      tf.dispose([x, target]);
      std.dispose();
      fused.dispose();
    }
  });
}

for (const kind of ['lstm', 'gru'] as const) {
  t.test(`${kind}: an LM built with the fused layer saves, loads and is stepped by lm-step`, async (t) => {
    await initBackend('wasm');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fused-lm-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const input = tf.input({ shape: [null], dtype: 'int32', name: 'ids' });
    let x = tf.layers.embedding({ inputDim: 11, outputDim: 4, name: 'embedding' }).apply(input) as tf.SymbolicTensor;
    for (let i = 0; i < 2; i++) {
      const args = { units: 6, name: `${kind}_${i}`, recurrentInitializer: tf.initializers.glorotUniform({ seed: i }) };
      x = (kind === 'lstm' ? new FusedLSTM(args) : new FusedGRU(args)).apply(x) as tf.SymbolicTensor;
    }
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 11, name: 'logits' }).apply(x) as tf.SymbolicTensor });
    await saveLayersModel(model, dir);
    const loaded = await loadLayersModel(dir);
    const ids = [1, 5, 7, 3, 9, 4];
    const full = tf.tidy(() => (loaded.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor).squeeze([0]).arraySync() as number[][]);
    const lm = new RecurrentLanguageModel(loaded, kind);
    let { state, logits } = await lm.prefill(ids.slice(0, 1));
    let maxDiff = 0;
    for (let p = 1; p <= ids.length; p++) {
      maxDiff = Math.max(maxDiff, ...logits.arraySync()[0]!.map((v, j) => Math.abs(v - full[p - 1]![j]!)));
      if (p === ids.length) break;
      const next = lm.step(Int32Array.of(ids[p]!), state);
      disposeState(state);
      logits.dispose();
      ({ state, logits } = next);
    }
    disposeState(state);
    logits.dispose();
    t.ok(maxDiff < 1e-5, `stepped logits equal the full model: max |Δ| = ${maxDiff}`);
    lm.dispose();
    model.dispose();
    loaded.dispose();
  });
}
