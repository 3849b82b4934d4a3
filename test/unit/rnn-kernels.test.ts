// The per-step recurrent kernels (src/arch/rnn-kernels.ts): activation accuracy, equality with the
// tf-ops path (values and gradients, sequences and single decode steps), that they really run (one
// kernel per step instead of the gate ops), and no tensor leaks.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { rnnKernelsActive, setRnnKernels, sigmoidApprox, tanhApprox } from '../../src/arch/rnn-kernels.ts';
import { fusedLstm } from '../../src/arch/fused-lstm.ts';
import { fusedGru } from '../../src/arch/fused-gru.ts';
import { cellStepProjected, disposeCellExtras, prepareCell, projectInput } from '../../src/arch/cell-step.ts';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

t.before(async () => {
  await initBackend('wasm');
});
t.afterEach(() => setRnnKernels(true));

t.test('tanh and sigmoid approximations are within 3e-7 of the exact functions', async (t) => {
  let tanhErr = 0;
  let sigErr = 0;
  for (let x = -30; x <= 30; x += 1e-3) {
    tanhErr = Math.max(tanhErr, Math.abs(tanhApprox(x) - Math.tanh(x)));
    sigErr = Math.max(sigErr, Math.abs(sigmoidApprox(x) - 1 / (1 + Math.exp(-x))));
  }
  t.ok(tanhErr < 3e-7, `tanh max |error| ${tanhErr}`);
  t.ok(sigErr < 3e-7, `sigmoid max |error| ${sigErr}`);
  t.equal(tanhApprox(0), 0);
  t.equal(sigmoidApprox(0), 0.5);
});

t.test('off wasm (cpu backend) the kernels are not used', async (t) => {
  await initBackend('cpu');
  t.equal(rnnKernelsActive(), false);
  await initBackend('wasm');
  t.equal(rnnKernelsActive(), true);
  setRnnKernels(false);
  t.equal(rnnKernelsActive(), false, 'switched off');
});

/** Values and gradients (to x, kernel, recurrent, bias, h0[, c0]) of a weighted sum of the outputs. */
function runSequence(kind: 'lstm' | 'gru', x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, b: tf.Tensor1D, h0: tf.Tensor2D, c0: tf.Tensor2D, target: tf.Tensor) {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor3D, WW: tf.Tensor2D, UU: tf.Tensor2D, bb: tf.Tensor1D, hh: tf.Tensor2D, cc: tf.Tensor2D) => {
      // (a GRU has no c: c0 enters with weight 0 so that both kinds differentiate the same inputs)
      if (kind === 'gru') return tf.add(tf.sum(tf.mul(fusedGru(xx, WW, UU, bb, { h0: hh }).output, target)), tf.mul(tf.sum(cc), 0));
      const r = fusedLstm(xx, WW, UU, bb, { h0: hh, c0: cc, returnState: true });
      // the final c gets a gradient of its own (returnState path)
      return tf.add(tf.sum(tf.mul(r.output, target)), tf.sum(tf.mul(r.c!, 0.3)));
    };
    const { value, grads } = tf.valueAndGrads(f as (...a: tf.Tensor[]) => tf.Scalar)([x, W, U, b, h0, c0]);
    return [value, ...grads];
  });
}

for (const kind of ['lstm', 'gru'] as const) {
  t.test(`${kind}: a sequence through the kernels equals the tf-ops path (values and all gradients) and runs one kernel per step`, async (t) => {
    const G = kind === 'lstm' ? 4 : 3;
    for (const [B, T, In, H] of [[3, 6, 5, 7], [1, 1, 2, 3], [4, 9, 8, 16]] as const) {
      const x = tf.randomNormal([B, T, In], 0, 1, 'float32', 1) as tf.Tensor3D;
      const W = tf.randomNormal([In, G * H], 0, 0.6, 'float32', 2) as tf.Tensor2D;
      const U = tf.randomNormal([H, G * H], 0, 0.6, 'float32', 3) as tf.Tensor2D;
      const b = tf.randomNormal([G * H], 0, 0.5, 'float32', 4) as tf.Tensor1D;
      const h0 = tf.randomNormal([B, H], 0, 0.5, 'float32', 5) as tf.Tensor2D;
      const c0 = tf.randomNormal([B, H], 0, 0.5, 'float32', 6) as tf.Tensor2D;
      const target = tf.randomNormal([B, T, H], 0, 1, 'float32', 7);
      const before = tf.memory().numTensors;
      setRnnKernels(false);
      const ref = runSequence(kind, x, W, U, b, h0, c0, target);
      setRnnKernels(true);
      let got: tf.Tensor[] = [];
      const prof = await tf.profile(() => {
        got = runSequence(kind, x, W, U, b, h0, c0, target);
        return got;
      });
      const names = ['value', 'x', 'kernel', 'recurrent', 'bias', 'h0', 'c0'];
      const worst = ref.map((r, i) => ({ what: names[i], d: maxAbsDiff(r, got[i]!) }));
      const bad = worst.filter((w) => !(w.d < 2e-5));
      t.same(bad, [], `[${B},${T},${In},${H}] max |Δ| ${worst.map((w) => `${w.what} ${w.d.toExponential(1)}`).join(', ')}`);
      const count = (n: string) => prof.kernels.filter((k) => k.name === n).length;
      if (kind === 'lstm') {
        // forward: the vectorised Sigmoid op activates the gates, one kernel does the rest
        t.equal(count('SeqserveLstmCell'), T, 'one forward cell kernel per step');
        t.equal(count('Sigmoid'), T, 'one Sigmoid op per step');
        t.equal(count('SeqserveLstmStepGrad'), T, 'one backward kernel per step');
      } else {
        t.equal(count('SeqserveGruReset') + count('SeqserveGruOutSig'), 2 * T, 'two forward kernels per step');
        t.equal(count('Sigmoid'), 2 * T, 'two Sigmoid ops per step');
        t.equal(count('SeqserveGruGradOut') + count('SeqserveGruGradGates'), 2 * T, 'two backward kernels per step');
      }
      t.equal(count('Tanh'), 0, 'no Tanh ops');
      tf.dispose([...ref, ...got]);
      t.equal(tf.memory().numTensors, before, 'no tensors left behind');
      tf.dispose([x, W, U, b, h0, c0, target]);
    }
  });

  // [3, …, 5]: few cells (an LSTM runs the all-JS step kernel); [8, …, 128]: B·H = 1024 (Sigmoid op + cell kernel)
  for (const [B, T, In, H] of [[3, 4, 6, 5], [8, 3, 4, 128]] as const) t.test(`${kind}: a decode step (cellStepProjected) of [${B}, ${H}] through the kernels equals the tf-ops path, at any step of a prefill projection`, async (t) => {
    const G = kind === 'lstm' ? 4 : 3;
    const w = prepareCell(
      kind,
      tf.randomNormal([In, G * H], 0, 0.6, 'float32', 11) as tf.Tensor2D,
      tf.randomNormal([H, G * H], 0, 0.6, 'float32', 12) as tf.Tensor2D,
      tf.randomNormal([G * H], 0, 0.5, 'float32', 13) as tf.Tensor1D,
    );
    const xs = tf.randomNormal([T * B, In], 0, 1, 'float32', 14) as tf.Tensor2D;
    const xw = projectInput(w, xs); // [T·B, G·H], time-major rows
    const h = tf.randomNormal([B, H], 0, 0.5, 'float32', 15) as tf.Tensor2D;
    const c = kind === 'lstm' ? (tf.randomNormal([B, H], 0, 0.5, 'float32', 16) as tf.Tensor2D) : undefined;
    const before = tf.memory().numTensors;
    for (let step = 0; step < T; step++) {
      const [dh, dc] = tf.tidy(() => {
        setRnnKernels(false);
        const ref = cellStepProjected(w, xw, h, c, step);
        setRnnKernels(true);
        const got = cellStepProjected(w, xw, h, c, step);
        // a single step's own projection [B, G·H] with t = 0 gives the same
        const own = cellStepProjected(w, tf.slice(xw, [step * B, 0], [B, G * H]), h, c);
        return [
          Math.max(maxAbsDiff(ref.h, got.h), maxAbsDiff(ref.h, own.h)),
          ref.c ? Math.max(maxAbsDiff(ref.c, got.c!), maxAbsDiff(ref.c, own.c!)) : 0,
        ];
      });
      t.ok(dh! < 1e-6 && dc! < 1e-6, `step ${step}: h max |Δ| ${dh}, c max |Δ| ${dc}`);
    }
    t.equal(tf.memory().numTensors, before, 'steps leave no tensors');
    disposeCellExtras(w);
    tf.dispose([w.kernel, w.recurrent, w.bias, xs, xw, h, c ?? []]);
  });
}
