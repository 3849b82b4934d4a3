// The Transformer LM (arch/transformer.ts): gradients against finite differences, the KV cache
// (prefill + steps, batched rows of different lengths, chat-style extension) against the full
// forward pass, no tensor growth over many steps, and the weight-set save/load round trip.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.ts';
import { TransformerLM, concatKv, disposeKv, emptyKv, selectKv, type KvState, type TransformerSpec } from '../../src/arch/transformer.ts';
import { sequenceCrossEntropy } from '../../src/arch/lm.ts';
import { loadWeightSet, saveWeightSet } from '../../src/store/weight-set-io.ts';

await initBackend('wasm');

const spec: TransformerSpec = { vocabSize: 11, layers: 2, heads: 2, embeddingDim: 8, contextLength: 12 };

function maxAbsDiff(a: tf.Tensor | number[] | number[][], b: tf.Tensor | number[] | number[][]): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Bigger-than-init weights so that attention is far from uniform and every part matters. */
function roughen(model: TransformerLM, seed: number): void {
  model.getWeights().forEach((w, i) => {
    const noise = tf.randomNormal(w.shape, 0, 0.3, 'float32', seed + i);
    (w as tf.Variable).assign(tf.add(w, noise));
    noise.dispose();
  });
}

/** Full-forward logits [T, V] of one row. */
const fullLogits = (model: TransformerLM, ids: number[]) =>
  tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).squeeze([0]).arraySync() as number[][]);

t.test('refuses heads that do not divide the width', async (t) => {
  t.throws(() => new TransformerLM({ ...spec, heads: 3 }, 1), /heads \(3\) must divide embedding_dim \(8\)/);
});

t.test('gradients of the loss match central finite differences', async (t) => {
  // float64 is not available on wasm: central differences in float32 with a moderate ε.
  const model = new TransformerLM(spec, 3);
  roughen(model, 30);
  const x = tf.tensor2d([[1, 5, 7, 3, 9], [2, 4, 4, 8, 10]], [2, 5], 'int32');
  const y = tf.tensor2d([[5, 7, 3, 9, 6], [4, 4, 8, 10, 1]], [2, 5], 'int32');
  const loss = () => sequenceCrossEntropy(model.forward(x), y);
  const vars = model.ws.variables();
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  const eps = 1e-2;
  let checked = 0;
  let worst = 0;
  for (const [vi, v] of vars.entries()) {
    const g = grads[v.name]!.dataSync();
    const base = v.dataSync().slice();
    // Three entries per weight: the largest gradient and two others.
    let arg = 0;
    g.forEach((gv, j) => (Math.abs(gv) > Math.abs(g[arg]!) ? (arg = j) : undefined));
    for (const j of new Set([arg, (vi * 7) % base.length, (vi * 13 + 5) % base.length])) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[j] = base[j]! + delta;
        tf.tidy(() => v.assign(tf.tensor(moved, v.shape)));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const err = Math.abs(fd - g[j]!) / (1e-3 + Math.abs(g[j]!));
      worst = Math.max(worst, err);
      if (err > 0.05) t.fail(`${model.ws.names()[vi]}[${j}]: autograd ${g[j]} vs finite difference ${fd}`);
      checked++;
    }
  }
  t.ok(checked >= 3 * vars.length - vars.length, `${checked} entries of ${vars.length} weights checked, worst relative error ${worst.toExponential(2)}`);
  // The embedding is tied: its gradient has both the input (gather) and the output (logits) parts.
  t.ok(model.ws.names().includes('wte') && !model.ws.names().some((n) => n.startsWith('output')), 'no separate output layer (tied)');
  tf.dispose(Object.values(grads));
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  tf.dispose([x, y]);
  model.dispose();
});

t.test('prefill + KV-cache steps equal the full forward pass at every position', async (t) => {
  const model = new TransformerLM(spec, 4);
  roughen(model, 40);
  const ids = [1, 5, 7, 3, 9, 4, 4, 2, 6, 10, 8, 5];
  const full = fullLogits(model, ids);
  const before = tf.memory().numTensors;
  let { state, logits } = model.extend(ids.slice(0, 3));
  let worst = maxAbsDiff(logits.arraySync()[0]!, full[2]!);
  for (let p = 3; p < ids.length; p++) {
    const next = model.step(Int32Array.of(ids[p]!), state);
    disposeKv(state);
    logits.dispose();
    ({ state, logits } = next);
    worst = Math.max(worst, maxAbsDiff(logits.arraySync()[0]!, full[p]!));
  }
  t.ok(worst < 1e-5, `max |Δ| over positions 2…11 = ${worst.toExponential(2)}`);
  t.same(state.lengths, [ids.length]);
  t.equal(state.k[0]!.shape[2], ids.length, 'cache covers exactly the fed positions');
  t.throws(() => model.step(Int32Array.of(1), state), /context_length 12/, 'no position past the context');
  disposeKv(state);
  logits.dispose();

  // A chat-style continuation: a kept cache extended by several ids in one pass.
  const first = model.extend(ids.slice(0, 5));
  first.logits.dispose();
  const cont = model.extend(ids.slice(5, 9), first.state);
  t.ok(maxAbsDiff(cont.logits.arraySync()[0]!, full[8]!) < 1e-5, 'extend(from a kept cache) = full forward');
  disposeKv(first.state);
  disposeKv(cont.state);
  cont.logits.dispose();
  // From an empty (zero-length) row too.
  const empty = emptyKv(spec, 1);
  const fromEmpty = model.extend(ids.slice(0, 4), empty);
  t.ok(maxAbsDiff(fromEmpty.logits.arraySync()[0]!, full[3]!) < 1e-5, 'extend(from an empty row) = full forward');
  t.equal(fromEmpty.state.k[0]!.shape[2], 4, 'the empty row’s masked column is trimmed');
  disposeKv(empty);
  disposeKv(fromEmpty.state);
  fromEmpty.logits.dispose();
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  model.dispose();
});

t.test('rows of different lengths in one batched step compute what each computes alone', async (t) => {
  const model = new TransformerLM(spec, 5);
  roughen(model, 50);
  const prompts = [[1, 5, 7, 3, 9, 4], [2, 8], [1], [6, 6, 6, 2]];
  const fulls = prompts.map((p) => fullLogits(model, [...p, 3, 7, 9]));
  const before = tf.memory().numTensors;
  // Each row prefilled alone (all but its last id), then stacked; an empty row for the 1-id prompt.
  const rows: KvState[] = prompts.map((p) => {
    if (p.length === 1) return emptyKv(spec, 1);
    const r = model.extend(p.slice(0, -1));
    r.logits.dispose();
    return r.state;
  });
  let state = concatKv(rows);
  rows.forEach(disposeKv);
  t.same(state.lengths, [5, 1, 0, 3]);
  const suffix = [3, 7, 9];
  let feed = prompts.map((p) => p[p.length - 1]!);
  let worst = 0;
  for (let s = 0; s < 4; s++) {
    const next = model.step(Int32Array.from(feed), state);
    disposeKv(state);
    state = next.state;
    const got = next.logits.arraySync();
    next.logits.dispose();
    prompts.forEach((p, r) => (worst = Math.max(worst, maxAbsDiff(got[r]!, fulls[r]![p.length - 1 + s]!))));
    if (s < suffix.length) feed = prompts.map(() => suffix[s]!);
  }
  t.ok(worst < 1e-5, `batched vs alone max |Δ| = ${worst.toExponential(2)}`);
  // Rows leave: the cache shrinks to the longest remaining row.
  const kept = selectKv(state, [1, 2]);
  t.same(kept.lengths, [5, 4]);
  t.equal(kept.k[0]!.shape[2], 5, 'trimmed to the longest remaining row');
  const lone = selectKv(state, [1]);
  const after = model.step(Int32Array.of(5), lone);
  const ref = fullLogits(model, [2, 8, 3, 7, 9, 5]);
  t.ok(maxAbsDiff(after.logits.arraySync()[0]!, ref[5]!) < 1e-5, 'a row selected out of a batch continues exactly');
  [state, kept, lone, after.state].forEach(disposeKv);
  after.logits.dispose();
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  model.dispose();
});

t.test('no tensor growth over many steps', async (t) => {
  const model = new TransformerLM({ ...spec, contextLength: 64 }, 6);
  const before = tf.memory().numTensors;
  let steps = 0;
  while (steps < 2000) {
    let { state, logits } = model.extend([1, 2, 3]);
    logits.dispose();
    while (state.lengths.some((l) => l < 64) && steps < 2000) {
      const next = model.step(Int32Array.of(steps % 11), state);
      disposeKv(state);
      next.logits.dispose();
      state = next.state;
      steps++;
    }
    disposeKv(state);
  }
  t.equal(tf.memory().numTensors, before, `${steps} steps: tensor count back to ${before}`);
  model.dispose();
});

t.test('dropout is active only when asked, seeded, and training passes leave no tensors', async (t) => {
  const model = new TransformerLM(spec, 7);
  const x = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
  const a = model.forward(x, { dropout: 0.5, seed: 1 });
  const b = model.forward(x, { dropout: 0.5, seed: 1 });
  const c = model.forward(x, { dropout: 0.5, seed: 2 });
  const plain = model.forward(x);
  const plain2 = model.forward(x, { dropout: 0 });
  t.equal(maxAbsDiff(a, b), 0, 'same seed, same masks');
  t.ok(maxAbsDiff(a, c) > 1e-3, 'another seed, other masks');
  t.ok(maxAbsDiff(a, plain) > 1e-3, 'dropout changes the output');
  t.equal(maxAbsDiff(plain, plain2), 0);
  tf.dispose([a, b, c, plain, plain2, x]);
  model.dispose();
});

t.test('save/load round trip in the model store format', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gpt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const model = new TransformerLM(spec, 8);
  roughen(model, 80);
  await saveWeightSet(dir, 'transformer', model.spec, model.ws);
  const loaded = await loadWeightSet(dir, 'transformer', (s: TransformerSpec) => new TransformerLM(s, 0));
  t.same(loaded.spec, spec);
  const ids = [1, 4, 9, 2, 7];
  t.equal(maxAbsDiff(fullLogits(model, ids), fullLogits(loaded, ids)), 0, 'identical logits after loading');
  await t.rejects(loadWeightSet(dir, 'seq2seq', (s: TransformerSpec) => new TransformerLM(s, 0)), /seq2seq\.json/, 'not read as another kind');
  model.dispose();
  loaded.dispose();
});
