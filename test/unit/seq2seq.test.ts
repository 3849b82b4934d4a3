// Seq2Seq encoder–decoder and classifier: attention masks, padded encoding, incremental decoding ≡
// teacher forcing, gradient flow, tensor hygiene, weight save/load, class weights.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { attendSequence, attendStep, attentionBias } from '../../src/arch/attention.ts';
import { addEncoderWeights, encode, lengthMask, reverseWithinLengths, wordDrop, type EncoderSpec } from '../../src/arch/encoder.ts';
import { Seq2SeqModel, disposeEncoded, type Seq2SeqSpec } from '../../src/arch/seq2seq.ts';
import { TextClassifier, balancedClassWeights, weightedCrossEntropy, type ClassifierSpec } from '../../src/arch/classifier.ts';
import { WeightSet } from '../../src/arch/weight-set.ts';
import { disposeState, type RecurrentState } from '../../src/arch/lm-step.ts';
import { sequenceCrossEntropy } from '../../src/arch/lm.ts';
import { loadWeightSet, saveWeightSet } from '../../src/store/weight-set-io.ts';
import { encodeRows, greedyDecodeBatch, initialDecoderState } from '../../src/tasks/seq2seq-forward.ts';
import { beamDecodeSource } from '../../src/tasks/seq2seq-beam.ts';
import { makePairBatch, padRows } from '../../src/tasks/pair-encoding.ts';
import { BOS_ID, EOS_ID, PAD_ID } from '../../src/tokenize/index.ts';

await initBackend('wasm');

const TOL = 1e-5;
const KINDS = ['lstm', 'gru'] as const;

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Rows padded to `width` with `fill` (junk ids, or PAD): [rows, width] int32 and the real lengths. */
function padded(rows: number[][], width: number, fill: (b: number, j: number) => number = () => PAD_ID): { ids: tf.Tensor2D; lengths: Int32Array } {
  const data = new Int32Array(rows.length * width);
  rows.forEach((r, b) => {
    for (let j = 0; j < width; j++) data[b * width + j] = j < r.length ? r[j]! : fill(b, j);
  });
  return { ids: tf.tensor2d(data, [rows.length, width], 'int32'), lengths: Int32Array.from(rows, (r) => r.length) };
}

/** Junk at pad positions: ordinary (non-pad) ids, different per position. */
const junk = (V: number) => (b: number, j: number) => 4 + ((7 * b + 3 * j + 1) % (V - 4));

const s2sSpec = (architecture: 'lstm' | 'gru', over: Partial<Seq2SeqSpec> = {}): Seq2SeqSpec => ({
  architecture, sourceVocab: 13, targetVocab: 11, layers: 2, units: 6, embeddingDim: 5, bidirectional: true, ...over,
});

// ---------------------------------------------------------------------------------------------
// 1. Attention masks

t.test('attention: pad positions get weight exactly 0, real positions sum to 1', async (t) => {
  const lengths = Int32Array.of(3, 5, 1);
  const [B, S, T, H, M] = [3, 5, 4, 6, 7];
  const before = tf.memory().numTensors;
  const r = tf.tidy(() => {
    const bias = attentionBias(lengthMask(lengths, S));
    // Large queries/keys: scores of order 10², still nowhere near the −1e9 of the mask.
    const q = tf.randomNormal([B, T, H], 0, 4, 'float32', 1) as tf.Tensor3D;
    const k = tf.randomNormal([B, S, H], 0, 4, 'float32', 2) as tf.Tensor3D;
    const m = tf.randomNormal([B, S, M], 0, 1, 'float32', 3) as tf.Tensor3D;
    const seq = attendSequence(q, k, m, bias);
    // One step for B rows equals the sequence form at each position.
    const stepDiffs = Array.from({ length: T }, (_, i) => {
      const qi = tf.slice(q, [0, i, 0], [B, 1, H]).reshape([B, H]) as tf.Tensor2D;
      const st = attendStep(qi, k, m, bias);
      return tf.max(tf.abs(tf.sub(st.context, tf.slice(seq.context, [0, i, 0], [B, 1, M]).reshape([B, M])))).dataSync()[0]!;
    });
    return { biasV: bias.arraySync(), w: seq.weights.arraySync() as number[][][], ctxShape: seq.context.shape, stepDiff: Math.max(...stepDiffs) };
  });
  t.equal(tf.memory().numTensors, before, 'no tensors left');
  t.same(r.biasV[0]!.map((v) => (v === 0 ? 0 : v)), [0, 0, 0, -1e9, -1e9], 'bias: 0 at real positions, −1e9 at pads');
  t.same(r.ctxShape, [B, T, M]);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const w = r.w[b]![i]!;
      const pads = w.slice(lengths[b]!);
      t.ok(pads.every((v) => v === 0), `row ${b} pos ${i}: pad weights exactly 0 (${pads})`);
      const sum = w.slice(0, lengths[b]!).reduce((a, v) => a + v, 0);
      t.ok(Math.abs(sum - 1) < 1e-6, `row ${b} pos ${i}: real weights sum to 1 (${sum})`);
    }
  }
  t.ok(r.stepDiff < 1e-6, `attendStep (R = B) equals attendSequence (max |Δ| = ${r.stepDiff})`);
});

t.test('attention: one shared source for R rows equals R copies of it', async (t) => {
  const [R, S, H, M] = [3, 4, 5, 6];
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const bias = attentionBias(lengthMask(Int32Array.of(3), S));
    const q = tf.randomNormal([R, H], 0, 2, 'float32', 4) as tf.Tensor2D;
    const k = tf.randomNormal([1, S, H], 0, 2, 'float32', 5) as tf.Tensor3D;
    const m = tf.randomNormal([1, S, M], 0, 1, 'float32', 6) as tf.Tensor3D;
    const shared = attendStep(q, k, m, bias);
    const copies = attendStep(q, tf.tile(k, [R, 1, 1]) as tf.Tensor3D, tf.tile(m, [R, 1, 1]) as tf.Tensor3D, tf.tile(bias, [R, 1]) as tf.Tensor2D);
    t.same(shared.context.shape, [R, M]);
    t.same(shared.weights.shape, [R, S]);
    t.throws(() => attendStep(q, tf.tile(k, [2, 1, 1]) as tf.Tensor3D, tf.tile(m, [2, 1, 1]) as tf.Tensor3D, tf.tile(bias, [2, 1]) as tf.Tensor2D), /3 query rows against 2 sources/);
    return {
      ctx: maxAbsDiff(shared.context, copies.context),
      w: maxAbsDiff(shared.weights, copies.weights),
      padW: (shared.weights.arraySync() as number[][]).map((row) => row[3]),
    };
  });
  t.ok(out.ctx < 1e-6 && out.w < 1e-6, `context |Δ| ${out.ctx}, weights |Δ| ${out.w}`);
  t.same(out.padW, [0, 0, 0], 'the shared pad position has weight 0 for every row');
  t.equal(tf.memory().numTensors, before, 'no tensors left');
});

for (const kind of KINDS) {
  t.test(`${kind}: ids at pad positions do not change the decoder's or the classifier's logits`, async (t) => {
    const rowA = [5, 9, 4];
    const rowB = [7, 8, 6, 12, 10, 5];
    const tgtA = [BOS_ID, 6, 9, 4];
    const tgtB = [BOS_ID, 7, 5, 8];
    const model = new Seq2SeqModel(s2sSpec(kind), 11);
    const cls = new TextClassifier({ architecture: kind, vocabSize: 13, layers: 2, units: 6, embeddingDim: 5, bidirectional: true, numClasses: 4 }, 12);
    const d = tf.tidy(() => {
      const alone = model.forward(tf.tensor2d([rowA], [1, 3], 'int32'), Int32Array.of(3), tf.tensor2d([tgtA], [1, 4], 'int32'));
      const clsAlone = cls.logits(tf.tensor2d([rowA], [1, 3], 'int32'), Int32Array.of(3));
      const diffs = { s2s: [] as number[], cls: [] as number[], rowB: 0 };
      // Row A padded with junk (two different junk fillings) and with real pads, beside row B.
      for (const fill of [junk(13), (b: number, j: number) => 12 - ((b + j) % 7), () => PAD_ID]) {
        const { ids, lengths } = padded([rowA, rowB], 6, fill);
        const both = model.forward(ids, lengths, tf.tensor2d([tgtA, tgtB], [2, 4], 'int32'));
        diffs.s2s.push(maxAbsDiff(tf.slice(both, [0, 0, 0], [1, 4, 11]), alone));
        diffs.cls.push(maxAbsDiff(tf.slice(cls.logits(ids, lengths), [0, 0], [1, 4]), clsAlone));
      }
      const bAlone = model.forward(tf.tensor2d([rowB], [1, 6], 'int32'), Int32Array.of(6), tf.tensor2d([tgtB], [1, 4], 'int32'));
      const { ids, lengths } = padded([rowA, rowB], 6, junk(13));
      const both = model.forward(ids, lengths, tf.tensor2d([tgtA, tgtB], [2, 4], 'int32'));
      diffs.rowB = maxAbsDiff(tf.slice(both, [1, 0, 0], [1, 4, 11]), bAlone);
      return diffs;
    });
    t.ok(Math.max(...d.s2s) < TOL, `seq2seq: padded row's logits equal the row alone (max |Δ| ${d.s2s})`);
    t.ok(Math.max(...d.cls) < TOL, `classifier: padded row's logits equal the row alone (max |Δ| ${d.cls})`);
    t.ok(d.rowB < TOL, `the full-length row is unaffected by its neighbour (|Δ| ${d.rowB})`);
    model.dispose();
    cls.dispose();
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Encoder on padded batches

t.test('reverseWithinLengths and lengthMask', async (t) => {
  t.same([...reverseWithinLengths(Int32Array.of(3, 1, 4), 4)], [2, 1, 0, 3, 4, 5, 6, 7, 11, 10, 9, 8]);
  const m = lengthMask(Int32Array.of(2, 0, 5), 3);
  t.same(m.arraySync(), [[1, 1, 0], [0, 0, 0], [1, 1, 1]], 'lengths beyond the width are clipped');
  m.dispose();
});

t.test('wordDrop zeroes whole token embeddings at the rate and scales the survivors; rate 0 is the identity', async (t) => {
  const before = tf.memory().numTensors;
  const [B, S, D] = [8, 50, 6];
  const x = tf.randomUniform([B, S, D], 0.5, 1.5, 'float32', 3) as tf.Tensor3D;
  t.equal(wordDrop(x, 0, 1), x, 'rate 0 returns x itself');
  const y = wordDrop(x, 0.25, 7);
  const xs = x.arraySync();
  const ys = y.arraySync();
  let dropped = 0;
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const row = ys[b]![s]!;
      if (row.every((v) => v === 0)) {
        dropped++;
        continue;
      }
      row.forEach((v, d) => t.ok(Math.abs(v - xs[b]![s]![d]! / 0.75) < 1e-5, 'a kept token is scaled by 1/(1 − rate)') || t.bailout());
    }
  }
  t.ok(dropped > 0.15 * B * S && dropped < 0.35 * B * S, `about a quarter of the ${B * S} tokens dropped whole (${dropped})`);
  const again = wordDrop(x, 0.25, 7);
  t.same(again.arraySync(), ys, 'the same seed drops the same tokens');
  tf.dispose([x, y, again]);
  t.equal(tf.memory().numTensors, before, 'no tensors left');
});

t.test('Seq2Seq loss with word dropout differs from the loss without it and has gradients for every weight', async (t) => {
  const before = tf.memory().numTensors;
  const model = new Seq2SeqModel(s2sSpec('lstm'), 5);
  const src = padded([[4, 5, 6, 7], [8, 9]], 4);
  const tgtIn = tf.tensor2d([[1, 4, 5], [1, 6, 0]], [2, 3], 'int32');
  const tgtOut = tf.tensor2d([[4, 5, 2], [6, 2, 0]], [2, 3], 'int32');
  const plain = tf.tidy(() => model.loss(src.ids, src.lengths, tgtIn, tgtOut, { seed: 9 }).dataSync()[0]!);
  const dropped = tf.tidy(() => model.loss(src.ids, src.lengths, tgtIn, tgtOut, { seed: 9, wordDropout: 0.5 }).dataSync()[0]!);
  t.not(plain, dropped, 'word dropout changes the training loss');
  const { value, grads } = tf.variableGrads(() => model.loss(src.ids, src.lengths, tgtIn, tgtOut, { seed: 9, wordDropout: 0.3 }), model.ws.variables());
  t.ok(Object.values(grads).every((g) => Number.isFinite(tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!))), 'finite gradients');
  tf.dispose([value, ...Object.values(grads)]);
  tf.dispose([src.ids, tgtIn, tgtOut]);
  model.dispose();
  t.equal(tf.memory().numTensors, before, 'no tensors left');
});

t.test('encoder: each row of a padded batch equals the row encoded alone', async (t) => {
  const rows = [[5, 6, 7, 8], [9, 4], [10, 11, 12, 5, 6], [7]];
  const S = 5;
  for (const architecture of KINDS) {
    for (const bidirectional of [false, true]) {
      for (const layers of [1, 2]) {
        const spec: EncoderSpec = { architecture, vocabSize: 13, layers, units: 4, embeddingDim: 3, bidirectional };
        const ws = new WeightSet(layers * 10 + (bidirectional ? 1 : 0));
        addEncoderWeights(ws, spec);
        const before = tf.memory().numTensors;
        const { memDiff, finDiff, shapes } = tf.tidy(() => {
          const { ids, lengths } = padded(rows, S, junk(13));
          const batch = encode(spec, ws, ids, lengths);
          let memDiff = 0;
          let finDiff = 0;
          rows.forEach((r, b) => {
            const one = encode(spec, ws, tf.tensor2d([r], [1, r.length], 'int32'), Int32Array.of(r.length));
            const M = one.memory.shape[2];
            memDiff = Math.max(memDiff, maxAbsDiff(tf.slice(batch.memory, [b, 0, 0], [1, r.length, M]), one.memory));
            one.finals.forEach((f, i) => (finDiff = Math.max(finDiff, maxAbsDiff(tf.slice(batch.finals[i]!, [b, 0], [1, M]), f))));
          });
          return { memDiff, finDiff, shapes: [batch.memory.shape, batch.finals.map((f) => f.shape)] };
        });
        const name = `${architecture} ${bidirectional ? 'bi' : 'uni'} ${layers} layer(s)`;
        const M = bidirectional ? 8 : 4;
        t.same(shapes, [[4, S, M], Array(layers).fill([4, M])], `${name}: shapes`);
        t.ok(memDiff < TOL, `${name}: memory at real positions (max |Δ| ${memDiff})`);
        t.ok(finDiff < TOL, `${name}: finals (max |Δ| ${finDiff})`);
        t.equal(tf.memory().numTensors, before, `${name}: no tensors left`);
        ws.dispose();
      }
    }
  }
});

t.test('encoder finals are the forward output at length−1 ⊕ the backward output at 0', async (t) => {
  const spec: EncoderSpec = { architecture: 'gru', vocabSize: 9, layers: 1, units: 3, embeddingDim: 2, bidirectional: true };
  const ws = new WeightSet(4);
  addEncoderWeights(ws, spec);
  const d = tf.tidy(() => {
    const { ids, lengths } = padded([[4, 5, 6], [7, 8, 4, 5, 6]], 5, junk(9));
    const { memory, finals } = encode(spec, ws, ids, lengths);
    const fw0 = tf.slice(memory, [0, 2, 0], [1, 1, 3]).reshape([1, 3]);
    const bw0 = tf.slice(memory, [0, 0, 3], [1, 1, 3]).reshape([1, 3]);
    const fw1 = tf.slice(memory, [1, 4, 0], [1, 1, 3]).reshape([1, 3]);
    const bw1 = tf.slice(memory, [1, 0, 3], [1, 1, 3]).reshape([1, 3]);
    return maxAbsDiff(finals[0]!, tf.concat([tf.concat([fw0, bw0], 1), tf.concat([fw1, bw1], 1)], 0));
  });
  t.ok(d < 1e-7, `|Δ| ${d}`);
  ws.dispose();
});

// ---------------------------------------------------------------------------------------------
// 3. Incremental decoding ≡ teacher forcing

/** Copy of a state (the caller disposes it). */
const cloneState = (s: RecurrentState, tileTo = 1): RecurrentState => ({
  h: s.h.map((x) => (tileTo > 1 ? tf.tile(x, [tileTo, 1]) : x.clone()) as tf.Tensor2D),
  c: s.c.map((x) => (tileTo > 1 ? tf.tile(x, [tileTo, 1]) : x.clone()) as tf.Tensor2D),
});

/** Steps `model` through the columns of tgtIn rows; returns each step's log-probs [R, V] as arrays. */
function stepThrough(model: Seq2SeqModel, enc: ReturnType<Seq2SeqModel['encodeSource']>, tgtIn: number[][], tileTo = 1): number[][][] {
  let state = cloneState(enc.initial, tileTo);
  const out: number[][][] = [];
  for (let i = 0; i < tgtIn[0]!.length; i++) {
    const r = model.step(Int32Array.from(tgtIn, (row) => row[i]!), state, enc);
    disposeState(state);
    state = r.state;
    out.push(r.logProbs.arraySync());
    r.logProbs.dispose();
  }
  disposeState(state);
  return out;
}

const maxDiff3 = (a: number[][][], b: number[][][]) => Math.max(...a.flatMap((x, i) => x.flatMap((y, j) => y.map((v, k) => Math.abs(v - b[i]![j]![k]!)))));

for (const kind of KINDS) {
  t.test(`${kind}: step() log-probs equal log-softmax(forward()) at every position`, async (t) => {
    const model = new Seq2SeqModel(s2sSpec(kind), 21);
    const src = [[5, 6, 7, 8, 9], [10, 4, 11]];
    const tgtIn = [[BOS_ID, 4, 7, 9, 5, 10], [BOS_ID, 8, 8, 6, EOS_ID, PAD_ID]];
    const before = tf.memory().numTensors;
    const { ids, lengths } = padded(src, 5, junk(13));
    const tin = tf.tensor2d(tgtIn, [2, 6], 'int32');
    // forward gives [B, T, V]; transpose to [T, B, V] to line up with the steps.
    const full = tf.tidy(() => tf.transpose(tf.logSoftmax(model.forward(ids, lengths, tin)), [1, 0, 2]).arraySync() as number[][][]);
    const enc = model.encodeSource(ids, lengths);
    t.same(enc.memory.shape, [2, 5, 12]);
    t.same(enc.initial.h.length, 2);
    t.same(enc.initial.c.length, kind === 'lstm' ? 2 : 0);
    const steps = stepThrough(model, enc, tgtIn);
    disposeEncoded(enc);
    const d = maxDiff3(steps, full);
    t.ok(d < TOL, `batched (B = 2, padded): max |Δ| ${d}`);
    const sums = steps.flatMap((x) => x.map((row) => row.reduce((a, v) => a + Math.exp(v), 0)));
    t.ok(sums.every((s) => Math.abs(s - 1) < 1e-5), 'step output is a log-softmax');

    // Shared source: 1 encoded row, R = 3 decoder rows (the beams of one request).
    const one = tf.tensor2d([src[0]!], [1, 5], 'int32');
    const shared = model.encodeSource(one, Int32Array.of(5));
    const same = [tgtIn[0]!, tgtIn[0]!, tgtIn[0]!];
    const sameSteps = stepThrough(model, shared, same, 3);
    const identical = sameSteps.every((x) => x.every((row) => row.every((v, k) => v === x[0]![k])));
    t.ok(identical, 'R = 3 identical rows give identical log-probs');
    const d0 = Math.max(...sameSteps.map((x, i) => Math.max(...x[0]!.map((v, k) => Math.abs(v - full[i]![0]![k]!)))));
    t.ok(d0 < TOL, `shared path equals teacher forcing of that row (max |Δ| ${d0})`);
    // Different rows against the shared source equal teacher forcing with the source repeated.
    const diffRows = [tgtIn[0]!, [BOS_ID, 9, 4, 4, 7, 6], [BOS_ID, 5, 6, 7, 8, 9]];
    const rep = tf.tidy(() => {
      const src3 = tf.tile(one, [3, 1]) as tf.Tensor2D;
      return tf.transpose(tf.logSoftmax(model.forward(src3, Int32Array.of(5, 5, 5), tf.tensor2d(diffRows, [3, 6], 'int32'))), [1, 0, 2]).arraySync() as number[][][];
    });
    const d3 = maxDiff3(stepThrough(model, shared, diffRows, 3), rep);
    t.ok(d3 < TOL, `shared path with 3 different rows (max |Δ| ${d3})`);
    disposeEncoded(shared);
    tf.dispose([ids, tin, one]);
    t.equal(tf.memory().numTensors, before, 'encodeSource + step + disposeEncoded leave no tensors');
    model.dispose();
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Gradients flow

for (const kind of KINDS) {
  t.test(`${kind}: every weight gets a gradient, and Adam reduces the loss on a copy task`, async (t) => {
    const model = new Seq2SeqModel(s2sSpec(kind, { sourceVocab: 9, targetVocab: 9, units: 8, embeddingDim: 6 }), 31);
    const seqs = [[4, 5], [6, 7, 8], [5, 4, 6], [8, 8, 7, 4], [7, 6], [4, 8, 5, 6]];
    const b = makePairBatch(seqs.map((s) => ({ src: s, tgt: s })));
    const src = tf.tensor2d(b.src, [b.rows, b.srcLen], 'int32');
    const tgtIn = tf.tensor2d(b.tgtIn, [b.rows, b.tgtLen], 'int32');
    const tgtOut = tf.tensor2d(b.tgtOut, [b.rows, b.tgtLen], 'int32');
    const lossFn = () => sequenceCrossEntropy(model.forward(src, b.srcLengths, tgtIn), tgtOut, PAD_ID);
    const vars = model.ws.variables();
    const names = model.ws.names();
    const norms = tf.tidy(() => {
      const { grads } = tf.variableGrads(lossFn, vars);
      return vars.map((v) => (grads[v.name] ? tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! : -1));
    });
    const zero = names.filter((_, i) => !(norms[i]! > 0));
    t.same(zero, [], `every variable has a non-zero gradient (${names.length} variables)`);
    for (const must of ['bridge_0/kernel', 'bridge_1/bias', 'attention/kernel', 'attention/combine_kernel', `encoder/${kind}_1_backward/kernel`, `encoder/${kind}_0_backward/recurrent_kernel`]) {
      t.ok(names.includes(must), `${must} exists`);
    }
    const opt = tf.train.adam(0.03);
    const losses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const l = opt.minimize(lossFn, true, vars)!;
      losses.push(l.dataSync()[0]!);
      l.dispose();
    }
    t.ok(losses.at(-1)! < 0.6 * losses[0]!, `loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}`);
    opt.dispose();
    tf.dispose([src, tgtIn, tgtOut]);
    model.dispose();
  });
}

// ---------------------------------------------------------------------------------------------
// 5. No tensor leaks

t.test('forward, encodeSource/step, greedyDecodeBatch and classifier logits leave no tensors', async (t) => {
  for (const kind of KINDS) {
    const model = new Seq2SeqModel(s2sSpec(kind), 41);
    const cls = new TextClassifier({ architecture: kind, vocabSize: 13, layers: 2, units: 4, embeddingDim: 3, bidirectional: true, numClasses: 3 }, 42);
    const sources = [[5, 6, 7], [8], [9, 10, 11, 12]];
    const { ids, lengths, width } = padRows(sources);
    const src = tf.tensor2d(ids, [3, width], 'int32');
    const tgtIn = tf.tensor2d([[BOS_ID, 4], [BOS_ID, 5], [BOS_ID, 6]], [3, 2], 'int32');
    await greedyDecodeBatch(model, sources, 2); // warm-up (kernels, caches)
    const before = tf.memory().numTensors;

    tf.tidy(() => {
      model.forward(src, lengths, tgtIn, { dropout: 0.3, seed: 1 });
    });
    t.equal(tf.memory().numTensors, before, `${kind}: forward in a tidy`);

    const enc = model.encodeSource(src, lengths);
    const init: RecurrentState = { h: enc.initial.h.map((x) => x.clone()), c: enc.initial.c.map((x) => x.clone()) };
    const r1 = model.step(Int32Array.of(BOS_ID, BOS_ID, BOS_ID), init, enc);
    const r2 = model.step(Int32Array.of(4, 5, 6), r1.state, enc);
    [init, r1.state, r2.state].forEach(disposeState);
    tf.dispose([r1.logProbs, r2.logProbs]);
    disposeEncoded(enc);
    t.equal(tf.memory().numTensors, before, `${kind}: encodeSource + step + disposeState/disposeEncoded`);

    const out = await greedyDecodeBatch(model, sources, 5);
    t.equal(out.length, 3);
    t.ok(out.every((o) => o.length <= 5 && o.every((id) => id > 3 && id < 11)), `${kind}: greedy output ids are ordinary tokens (${JSON.stringify(out)})`);
    t.equal(tf.memory().numTensors, before, `${kind}: greedyDecodeBatch`);

    tf.tidy(() => {
      weightedCrossEntropy(cls.logits(src, lengths, { dropout: 0.2, seed: 3 }), tf.tensor1d([0, 2, 1], 'int32'), tf.tensor1d([1, 1, 1]));
    });
    t.equal(tf.memory().numTensors, before, `${kind}: classifier logits + loss`);

    tf.dispose([src, tgtIn]);
    model.dispose();
    cls.dispose();
  }
});

t.test('greedyDecodeBatch equals stepping the argmax by hand (incl. one-token sources)', async (t) => {
  const model = new Seq2SeqModel(s2sSpec('gru'), 51);
  const sources = [[5, 6, 7], [8], [9, 10]];
  const byHand = (s: number[], maxNew: number) => {
    // Decode one row alone (a one-token row is a width-1 batch), greedily, by hand.
    const src = tf.tensor2d([s], [1, s.length], 'int32');
    const enc = model.encodeSource(src, Int32Array.of(s.length));
    src.dispose();
    let state = cloneState(enc.initial);
    let id = BOS_ID;
    const mine: number[] = [];
    for (let i = 0; i < maxNew; i++) {
      const r = model.step(Int32Array.of(id), state, enc);
      disposeState(state);
      state = r.state;
      const lp = r.logProbs.arraySync()[0]!;
      r.logProbs.dispose();
      lp[PAD_ID] = lp[BOS_ID] = lp[3] = -Infinity;
      id = lp.indexOf(Math.max(...lp));
      if (id === EOS_ID) break;
      mine.push(id);
    }
    disposeState(state);
    disposeEncoded(enc);
    return mine;
  };
  const before = tf.memory().numTensors;
  for (const suppressEos of [false, true]) {
    if (suppressEos) {
      // Make <eos> unreachable so that every row runs to maxNewTokens (a non-trivial comparison).
      const bias = model.ws.get('output/bias');
      const lowered = tf.tidy(() => tf.add(bias, tf.oneHot(tf.tensor1d([EOS_ID], 'int32'), 11).reshape([11]).mul(-100)));
      bias.assign(lowered);
      lowered.dispose();
    }
    const got = await greedyDecodeBatch(model, sources, 4);
    sources.forEach((s, b) => t.same(got[b], byHand(s, 4), `${suppressEos ? 'no <eos>: ' : ''}row ${b} ${JSON.stringify(got[b])}`));
    if (suppressEos) t.ok(got.every((g) => g.length === 4), 'every row generated 4 tokens');
    t.same(await greedyDecodeBatch(model, [[8]], 4), [byHand([8], 4)], 'a batch of one one-token source');
  }
  t.equal(tf.memory().numTensors, before, 'no tensors left');
  model.dispose();
});

// ---------------------------------------------------------------------------------------------
// 6. WeightSet and weight-set-io

const values = (ws: WeightSet) => Object.fromEntries(ws.names().map((n) => [n, Array.from(ws.get(n).dataSync())]));

t.test('WeightSet: seeded, named, checked', async (t) => {
  const a = new Seq2SeqModel(s2sSpec('lstm'), 7);
  const b = new Seq2SeqModel(s2sSpec('lstm'), 7);
  const c = new Seq2SeqModel(s2sSpec('lstm'), 8);
  t.same(values(a.ws), values(b.ws), 'same spec and seed → same weights');
  t.not(JSON.stringify(values(a.ws)), JSON.stringify(values(c.ws)), 'another seed → other weights');
  t.same(Array.from(a.ws.get('encoder/lstm_0/bias').dataSync()), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, ...Array(12).fill(0)], 'LSTM forget bias 1');
  t.throws(() => a.ws.add('output/bias', [11], 'zeros'), /output\/bias defined twice/);
  t.throws(() => a.ws.get('nope'), /no weight named nope/);
  const before = tf.memory().numTensors;
  const snap = c.ws.snapshot();
  const partial = Object.fromEntries(snap.filter((s) => s.name !== 'attention/kernel').map((s) => [s.name, s.tensor]));
  t.throws(() => a.ws.load(partial), /attention\/kernel missing/);
  a.ws.load(Object.fromEntries(snap.map((s) => [s.name, s.tensor])));
  t.same(values(a.ws), values(c.ws), 'load by name');
  a.ws.assignOrdered(b.ws.variables());
  t.same(values(a.ws), values(b.ws), 'assignOrdered');
  t.throws(() => a.ws.assignOrdered(b.ws.variables().slice(1)), /expected \d+ weights, got/);
  tf.dispose(snap.map((s) => s.tensor));
  t.equal(tf.memory().numTensors, before, 'snapshot/load/assign leave no tensors');
  [a, b, c].forEach((m) => m.dispose());
});

t.test('weight-set-io: save then load round-trips; a mismatched model is refused by weight name', async (t) => {
  const dir = t.testdir();
  const spec = s2sSpec('gru', { bidirectional: false, layers: 1 });
  const model = new Seq2SeqModel(spec, 61);
  await saveWeightSet(dir, 'seq2seq', spec, model.ws);
  let seenSpec: Seq2SeqSpec | undefined;
  const loaded = await loadWeightSet(dir, 'seq2seq', (s: Seq2SeqSpec) => ((seenSpec = s), new Seq2SeqModel(s, 999)));
  t.same(seenSpec, spec, 'the saved spec is passed to build');
  t.same(loaded.ws.names(), model.ws.names());
  t.same(values(loaded.ws), values(model.ws), 'identical weights');
  loaded.dispose();

  const before = tf.memory().numTensors;
  await t.rejects(loadWeightSet(dir, 'seq2seq', () => new Seq2SeqModel({ ...spec, units: 7 }, 1)), /weights do not fit the model: .*encoder\/gru_0\/recurrent_kernel has shape \[6,18\], expected \[7,21\]/);
  await t.rejects(loadWeightSet(dir, 'seq2seq', () => new Seq2SeqModel({ ...spec, bidirectional: true }, 1)), /encoder\/gru_0_backward\/kernel missing/);
  await t.rejects(loadWeightSet(dir, 'classifier', () => new TextClassifier({ architecture: 'gru', vocabSize: 13, layers: 1, units: 6, embeddingDim: 5, bidirectional: false, numClasses: 2 }, 1)), /no such file|ENOENT/);
  t.equal(tf.memory().numTensors, before, 'failed loads dispose the model and the decoded weights');
  model.dispose();
});

// ---------------------------------------------------------------------------------------------
// 7. Classifier loss and class weights

t.test('balancedClassWeights and weightedCrossEntropy by hand', async (t) => {
  const w = balancedClassWeights([0, 0, 0, 1], 3);
  t.equal(w.length, 3);
  [4 / (3 * 3), 4 / (3 * 1), 0].forEach((v, k) => t.ok(Math.abs(w[k]! - v) < 1e-6, `class ${k}: ${w[k]} ≈ ${v}`));
  const w2 = balancedClassWeights([1, 0, 1, 2, 1, 1], 3);
  [6 / 3, 6 / 12, 6 / 3].forEach((v, k) => t.ok(Math.abs(w2[k]! - v) < 1e-6, `class ${k}: ${w2[k]} ≈ ${v}`));

  const logits = [[1, 2, 0], [0.5, -1, 2]];
  const labels = [1, 2];
  const cw = [0.2, 0.5, 2];
  const logSoftmax = (row: number[]) => {
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    return row.map((v) => v - lse);
  };
  const expected = -(cw[1]! * logSoftmax(logits[0]!)[1]! + cw[2]! * logSoftmax(logits[1]!)[2]!) / (cw[1]! + cw[2]!);
  const got = tf.tidy(() => weightedCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), tf.tensor1d(cw)).dataSync()[0]!);
  t.ok(Math.abs(got - expected) < 1e-6, `${got} ≈ ${expected}`);
  const unweighted = tf.tidy(() => weightedCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), tf.tensor1d([1, 1, 1])).dataSync()[0]!);
  const mean = -(logSoftmax(logits[0]!)[1]! + logSoftmax(logits[1]!)[2]!) / 2;
  t.ok(Math.abs(unweighted - mean) < 1e-6, `equal weights give the mean cross-entropy (${unweighted} ≈ ${mean})`);
});

t.test('classifier logits shape', async (t) => {
  const spec: ClassifierSpec = { architecture: 'lstm', vocabSize: 10, layers: 1, units: 3, embeddingDim: 2, bidirectional: false, numClasses: 5 };
  const cls = new TextClassifier(spec, 1);
  t.same(cls.ws.get('classifier/kernel').shape, [6, 5], 'head over [mean ⊕ final] = 2M');
  const shape = tf.tidy(() => cls.logits(tf.tensor2d([[4, 5, 0], [6, 7, 8]], [2, 3], 'int32'), Int32Array.of(2, 3)).shape);
  t.same(shape, [2, 5]);
  cls.dispose();
});

t.test('beamDecodeSource weighs given candidates as finished hypotheses, scored as decoding steps score them', async (t) => {
  const before = tf.memory().numTensors;
  const model = new Seq2SeqModel(s2sSpec('lstm', { sourceVocab: 11, targetVocab: 11, copy: true }), 21);
  const srcIds = [4, 7, 5, 9];
  // The search may not repeat a token (no_repeat_ngram_size 1) and long outputs are favoured
  // (length penalty 2); the candidates repeat one token 7 times, which the search cannot reach.
  const opts = { numBeams: 1, maxNewTokens: 8, lengthPenalty: 2, noRepeatNgramSize: 1 };
  /** Σ ln P of ids then <eos>, one decoder step at a time (independent of the teacher-forced scorer), normalized as the search normalizes. */
  const stepScore = (ids: number[]): number => {
    const enc = encodeRows(model, [srcIds]);
    let state = initialDecoderState(enc);
    let sum = 0;
    let prev = BOS_ID;
    for (const id of [...ids, EOS_ID]) {
      const r = model.step(Int32Array.of(prev), state, enc);
      sum += r.logProbs.dataSync()[id]!;
      r.logProbs.dispose();
      disposeState(state);
      state = r.state;
      prev = id;
    }
    disposeState(state);
    disposeEncoded(enc);
    return sum / (ids.length + 1) ** opts.lengthPenalty;
  };
  const searched = await beamDecodeSource(model, srcIds, opts);
  const candidates = [4, 5, 6, 7, 8, 9, 10].map((id) => new Array<number>(7).fill(id));
  const scores = candidates.map(stepScore);
  const top = scores.indexOf(Math.max(...scores));
  t.ok(scores[top]! > searched.best.score, `a candidate outscores the search (${scores[top]!.toFixed(3)} vs ${searched.best.score.toFixed(3)})`);
  const tooLong = new Array<number>(8).fill(4);
  const withCandidates = await beamDecodeSource(model, srcIds, { ...opts, candidates: [...candidates, tooLong] });
  t.same(withCandidates.best.ids, candidates[top], 'the best-scoring candidate wins');
  t.ok(withCandidates.best.finishedByEos, 'as a hypothesis ended by <eos>');
  t.ok(Math.abs(withCandidates.best.score - scores[top]!) < 1e-4, 'a candidate is scored as the decoder steps score it');
  t.notOk(withCandidates.hypotheses.some((h) => h.ids.length === 8 && h.ids.every((id) => id === 4)), 'a candidate longer than max_new_tokens allows is not weighed');
  t.ok(stepScore([]) < searched.best.score, 'an empty output scores below the search');
  const worse = await beamDecodeSource(model, srcIds, { ...opts, candidates: [[]] });
  t.same(worse.best.ids, searched.best.ids, 'a candidate scoring below the search changes nothing');
  const tie = await beamDecodeSource(model, srcIds, { ...opts, candidates: [searched.best.ids] });
  t.same(tie.best.ids, searched.best.ids, 'the search result itself as a candidate changes nothing');
  model.dispose();
  t.equal(tf.memory().numTensors, before, 'no tensors left');
});
