/**
 * Fused GRU: the same math and weights as `tf.layers.gru({ recurrentActivation: 'sigmoid',
 * activation: 'tanh' })` (reset applied before the recurrent matmul, i.e. Keras reset_after=false,
 * the only variant tf.js has). Weights (Keras layout, same names as tf.layers.gru): kernel [in, 3H],
 * recurrent_kernel [H, 3H], bias [3H], gate order z, r, h. See fused-lstm.ts for the approach:
 * x·W + b for all steps in one matmul, one tf.customGrad node for the whole sequence (on wasm the gate
 * math of a step is one kernel per recurrent matmul, rnn-kernels.ts), BPTT by hand
 * with dW, db, dx one op each over all T·B rows and dU as two matmuls (its z,r columns and its h
 * columns have different left operands: h_{t-1} and r_t ⊙ h_{t-1}).
 *
 * Not supported: dropout / recurrentDropout, masking, goBackwards, stateful, regularizers.
 */
import * as tf from '@tensorflow/tfjs';
import { columnSum } from './column-sum.ts';
import { FusedRecurrentLayer, type FusedRecurrentArgs, type SequenceResult } from './fused-rnn-layer.ts';
import { gruGradGates, gruGradOut, gruStepSig, recordingGradients, rnnKernelsActive } from './rnn-kernels.ts';

type SaveFn = (tensors: tf.Tensor[]) => void;

/**
 * Differentiable GRU over a sequence: x [B, T, in] → output [B, T, H] (and the final h [B, H]).
 * Optional initial state h0 [B, H] (zeros when omitted); gradients flow to x, weights and h0.
 */
export function fusedGru(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  opts: { h0?: tf.Tensor2D } = {},
): { output: tf.Tensor3D; h: tf.Tensor2D } {
  const [B, T, inDim] = x.shape;
  const H = recurrentKernel.shape[0];
  if (kernel.shape[0] !== inDim || kernel.shape[1] !== 3 * H || recurrentKernel.shape[1] !== 3 * H || bias.shape[0] !== 3 * H) {
    throw new Error(`fusedGru: shapes do not match: x [${x.shape}], kernel [${kernel.shape}], recurrent_kernel [${recurrentKernel.shape}], bias [${bias.shape}]`);
  }
  if (T < 1) throw new Error('fusedGru: sequence length must be ≥ 1');
  return tf.tidy(() => {
    const h0 = opts.h0 ?? tf.zeros([B, H]);
    const run = tf.customGrad(((...args: unknown[]) => {
      const [xx, W, U, b, hInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
      const onWasm = rnnKernelsActive();
      return gruForward(xx, W, U, b, hInit, args[5] as SaveFn, onWasm ? gruStepSig : stepOps, onWasm ? backwardKernels : backwardOps);
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const output = run(x, kernel, recurrentKernel, bias, h0) as tf.Tensor3D;
    const h = tf.reshape(tf.slice(output, [0, T - 1, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
    return { output, h };
  }) as unknown as { output: tf.Tensor3D; h: tf.Tensor2D };
}

/** One forward step: projected input parts xzr [B, 2H], xh [B, H] and h_{t-1} → [h_t, zr, r⊙h_{t-1}, hh]. */
type StepFn = (xzr: tf.Tensor2D, xh: tf.Tensor2D, h: tf.Tensor2D, Uzr: tf.Tensor2D, Uh: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];

/** What BPTT reads: the saved activations, time-major, and the transposed recurrent kernels. */
interface Saved {
  dyTm: tf.Tensor3D; // [T, B, H]
  zr: tf.Tensor3D; // [T, B, 2H]
  hh: tf.Tensor3D; // [T, B, H]
  hPrev: tf.Tensor3D; // [T, B, H]: h_{t-1} of every step
  UzrT: tf.Tensor2D;
  UhT: tf.Tensor2D;
}
/** BPTT through every step: the pre-activation gradients dzr [T of B, 2H], dhp [T of B, H] and dh0 [B, H]. */
type BackwardFn = (s: Saved, T: number) => { dzrs: tf.Tensor2D[]; dhps: tf.Tensor2D[]; dh0: tf.Tensor };

/** The tf-ops step (every backend other than wasm). */
const stepOps: StepFn = (xzr, xh, h, Uzr, Uh) => {
  const zr = tf.sigmoid(tf.add(xzr, tf.matMul(h, Uzr))) as tf.Tensor2D;
  const [z, r] = tf.split(zr, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const rh = tf.mul(r, h) as tf.Tensor2D;
  const hh = tf.tanh(tf.add(xh, tf.matMul(rh, Uh))) as tf.Tensor2D;
  return [tf.add(hh, tf.mul(z, tf.sub(h, hh))) as tf.Tensor2D, zr, rh, hh]; // z·h + (1−z)·hh
};

/** The tf-ops BPTT: recurrence-independent factors for all steps at once, then ~8 ops per step. */
const backwardOps: BackwardFn = ({ dyTm, zr, hh, hPrev, UzrT, UhT }, T) => {
  const [Z, R] = tf.split(zr, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
  const one = tf.scalar(1);
  const P = tf.mul(tf.sub(hPrev, hh), tf.mul(Z, tf.sub(one, Z))); // ∂h/∂z_pre per unit dh
  const Q = tf.mul(tf.sub(one, Z), tf.sub(one, tf.square(hh))); // ∂h/∂hh_pre
  const S = tf.mul(hPrev, tf.mul(R, tf.sub(one, R))); // ∂(r⊙h)/∂r_pre
  const steps = (a: tf.Tensor) => tf.unstack(a) as tf.Tensor2D[];
  const [Ps, Qs, Ss, Zs, Rs, dys] = [steps(P), steps(Q), steps(S), steps(Z), steps(R), steps(dyTm)];
  let dhNext: tf.Tensor2D | undefined;
  const dzrs: tf.Tensor2D[] = new Array(T);
  const dhps: tf.Tensor2D[] = new Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const dh = dhNext ? tf.add(dys[t]!, dhNext) : dys[t]!;
    const dhp = tf.mul(dh, Qs[t]!) as tf.Tensor2D;
    const drh = tf.matMul(dhp, UhT);
    const dzr = tf.concat([tf.mul(dh, Ps[t]!), tf.mul(drh, Ss[t]!)], 1) as tf.Tensor2D;
    dzrs[t] = dzr;
    dhps[t] = dhp;
    dhNext = tf.addN([tf.mul(dh, Zs[t]!), tf.mul(drh, Rs[t]!), tf.matMul(dzr, UzrT)]) as tf.Tensor2D;
  }
  return { dzrs, dhps, dh0: dhNext! };
};

/** The wasm BPTT (rnn-kernels.ts): per step two gate-gradient kernels and two matmuls. */
const backwardKernels: BackwardFn = ({ dyTm, zr, hh, hPrev, UzrT, UhT }, T) => {
  let dhA: tf.Tensor2D | undefined; // dh_t parts from step t+1: dh·z + drh·r …
  let dhB: tf.Tensor2D | undefined; // … and dzr·Uzrᵀ
  const dzrs: tf.Tensor2D[] = new Array(T);
  const dhps: tf.Tensor2D[] = new Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const [dh, dhp] = gruGradOut(dyTm, dhA, dhB, zr, hh, t);
    const [dzr, dhPart] = gruGradGates(dh, tf.matMul(dhp, UhT), zr, hh, hPrev, t);
    dzrs[t] = dzr;
    dhps[t] = dhp;
    dhA = dhPart;
    dhB = tf.matMul(dzr, UzrT) as tf.Tensor2D;
  }
  return { dzrs, dhps, dh0: tf.add(dhA!, dhB!) };
};

/**
 * The sequence with `step` forward and `backward` for BPTT: on wasm gruStepSig (per step two matmuls,
 * each followed by an Add, a Sigmoid op and one kernel) and the gate-gradient kernels; elsewhere tf ops.
 * Saved (only while a gradient is recorded): x (time-major rows), W, Uzr, Uh, h0, h of every step,
 * zr, hh and r⊙h of every step.
 */
function gruForward(x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, b: tf.Tensor1D, h0: tf.Tensor2D, save: SaveFn, step: StepFn, backward: BackwardFn) {
  const [B, T, inDim] = x.shape;
  const H = U.shape[0];
  const [Uzr, Uh] = tf.split(U, [2 * H, H], 1) as [tf.Tensor2D, tf.Tensor2D];
  const xtm = tf.reshape(tf.transpose(x, [1, 0, 2]), [T * B, inDim]) as tf.Tensor2D;
  const xw = tf.reshape(tf.fused.matMul({ a: xtm, b: W, bias: b }), [T, B, 3 * H]);
  const [xzrAll, xhAll] = tf.split(xw, [2 * H, H], 2);
  const xzrs = tf.unstack(xzrAll!) as tf.Tensor2D[];
  const xhs = tf.unstack(xhAll!) as tf.Tensor2D[];
  let h: tf.Tensor2D = h0;
  const hs: tf.Tensor2D[] = [];
  const zrs: tf.Tensor2D[] = [];
  const hhs: tf.Tensor2D[] = [];
  const rhs: tf.Tensor2D[] = [];
  const training = recordingGradients();
  for (let t = 0; t < T; t++) {
    const [hn, zr, rh, hh] = step(xzrs[t]!, xhs[t]!, h, Uzr, Uh);
    h = hn;
    hs.push(h);
    if (training) {
      zrs.push(zr);
      hhs.push(hh);
      rhs.push(rh);
    }
  }
  const hsTm = tf.stack(hs) as tf.Tensor3D; // [T, B, H]
  const value = tf.transpose(hsTm, [1, 0, 2]);
  if (training) save([xtm, W, Uzr, Uh, h0, tf.reshape(hsTm, [T * B, H]), tf.stack(zrs), tf.stack(hhs), tf.reshape(tf.stack(rhs), [T * B, H])]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
    tf.tidy(() => {
      const [sx, sW, sUzr, sUh, sh0, sHs, sZR, sHH, sRH] = saved as [
        tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D,
      ];
      const hPrevFlat = T > 1 ? tf.concat([sh0, tf.slice(sHs, [0, 0], [(T - 1) * B, H])], 0) : sh0; // [T·B, H]
      const { dzrs, dhps, dh0 } = backward(
        {
          dyTm: tf.transpose(dy, [1, 0, 2]) as tf.Tensor3D, zr: sZR, hh: sHH, hPrev: tf.reshape(hPrevFlat, [T, B, H]) as tf.Tensor3D,
          UzrT: tf.transpose(sUzr), UhT: tf.transpose(sUh),
        },
        T,
      );
      const dZR = tf.concat(dzrs, 0); // [T·B, 2H], time-major rows
      const dHp = tf.concat(dhps, 0); // [T·B, H]
      const dPre = tf.concat([dZR, dHp], 1); // [T·B, 3H]
      const dx = tf.transpose(tf.reshape(tf.matMul(dPre, tf.transpose(sW)), [T, B, inDim]), [1, 0, 2]);
      const dW = tf.matMul(sx, dPre, true, false);
      const dU = tf.concat([tf.matMul(hPrevFlat, dZR, true, false), tf.matMul(sRH, dHp, true, false)], 1);
      return [dx, dW, dU, columnSum(dPre), dh0];
    });
  return { value, gradFunc };
}

export type FusedGRUArgs = FusedRecurrentArgs;

/** GRU layer on fusedGru; with returnState it outputs [output, h] like tf.layers.gru. */
export class FusedGRU extends FusedRecurrentLayer {
  static className = 'FusedGRU';
  protected readonly gates = 3;
  protected readonly stateCount = 1;

  constructor(args: FusedGRUArgs) {
    super(args, 'FusedGRU');
  }

  protected runSequence(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): SequenceResult {
    const r = fusedGru(x, kernel, recurrent, bias);
    return { output: r.output, states: [r.h] };
  }
}
tf.serialization.registerClass(FusedGRU);

/** Factory in the style of tf.layers.gru. */
export function fusedGRU(args: FusedGRUArgs): FusedGRU {
  return new FusedGRU(args);
}
