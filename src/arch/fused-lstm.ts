/**
 * Fused LSTM: the same math and weights as `tf.layers.lstm({ recurrentActivation: 'sigmoid',
 * activation: 'tanh', unitForgetBias })`, computed with far fewer ops and a hand-written backward pass.
 *
 * Weights (Keras layout, names `<layer>/kernel`, `<layer>/recurrent_kernel`, `<layer>/bias`, exactly
 * as tf.layers.lstm names them): kernel W [in, 4H], recurrent_kernel U [H, 4H], bias b [4H], gate
 * order i, f, c, o. So `getWeights()`/`setWeights()` and saved weight files are interchangeable with
 * the standard layer, and `lm-step.ts` steps a model built with this layer.
 *
 * Forward: x·W + b for all time steps in one matmul (time-major rows), then per step one h·U matmul
 * and the gate math (none on a gradient tape: the whole sequence is one tf.customGrad node). On wasm
 * the gate math of a step is ONE kernel forward and one backward (rnn-kernels.ts); elsewhere it is
 * ~11 tf ops forward and 7 backward (the path described below).
 * Backward (BPTT by hand): everything that does not depend on the recurrence (the gate derivative
 * factors) is computed once for all steps; the per-step loop is 7 ops (two adds, three muls, one
 * concat, one dz·Uᵀ matmul); dW, dU, db and dx are then one op each over all T·B rows
 * (dU = [h₀…h_{T-1}]ᵀ·dZ as ONE [H, T·B]×[T·B, 4H] matmul).
 *
 * Not supported (use tf.layers.lstm for these): dropout / recurrentDropout, masking, goBackwards,
 * stateful, regularizers/constraints, activations other than tanh/sigmoid.
 */
import * as tf from '@tensorflow/tfjs';
import { columnSum } from './column-sum.ts';
import { FusedRecurrentLayer, type FusedRecurrentArgs, type SequenceResult } from './fused-rnn-layer.ts';
import { lstmCell, lstmStepGrad, recordingGradients, rnnKernelsActive } from './rnn-kernels.ts';

type SaveFn = (tensors: tf.Tensor[]) => void;

export interface FusedLstmResult {
  /** [B, T, H]: h at every step. */
  output: tf.Tensor3D;
  /** Final states [B, H] (only when `returnState` was true). */
  h?: tf.Tensor2D;
  c?: tf.Tensor2D;
}

/**
 * Differentiable LSTM over a whole sequence. x [B, T, in], kernel [in, 4H], recurrentKernel [H, 4H],
 * bias [4H]; optional initial states h0, c0 [B, H] (zeros when omitted). Gradients flow to every
 * input (x, weights and initial states). With `returnState`, the final h and c are returned too and
 * gradients flowing into them are back-propagated.
 */
export function fusedLstm(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  opts: { h0?: tf.Tensor2D; c0?: tf.Tensor2D; returnState?: boolean } = {},
): FusedLstmResult {
  const [B, T, inDim] = x.shape;
  const H = recurrentKernel.shape[0];
  if (kernel.shape[0] !== inDim || kernel.shape[1] !== 4 * H || recurrentKernel.shape[1] !== 4 * H || bias.shape[0] !== 4 * H) {
    throw new Error(
      `fusedLstm: shapes do not match: x [${x.shape}], kernel [${kernel.shape}], recurrent_kernel [${recurrentKernel.shape}], bias [${bias.shape}]`,
    );
  }
  if (T < 1) throw new Error('fusedLstm: sequence length must be ≥ 1');
  const withState = opts.returnState === true;
  return tf.tidy(() => {
    const h0 = opts.h0 ?? tf.zeros([B, H]);
    const c0 = opts.c0 ?? tf.zeros([B, H]);
    const run = tf.customGrad(((...args: unknown[]) => {
      const [xx, W, U, b, hInit, cInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];
      const save = args[6] as SaveFn;
      return (rnnKernelsActive() ? lstmForwardKernels : lstmForward)(xx, W, U, b, hInit, cInit, withState, save);
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const value = run(x, kernel, recurrentKernel, bias, h0, c0);
    if (!withState) return { output: value as tf.Tensor3D };
    // value [B, T+1, H]: h at every step, then c_T.
    const [output, cLast] = tf.split(value, [T, 1], 1) as [tf.Tensor3D, tf.Tensor3D];
    const h = tf.slice(output, [0, T - 1, 0], [B, 1, H]).reshape([B, H]) as tf.Tensor2D;
    return { output, h, c: cLast.reshape([B, H]) as tf.Tensor2D };
  }) as unknown as FusedLstmResult;
}

type SequenceFn = (
  x: tf.Tensor3D,
  W: tf.Tensor2D,
  U: tf.Tensor2D,
  b: tf.Tensor1D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  withState: boolean,
  save: SaveFn,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/** Splits the incoming gradient into dy for h at every step [B, T, H] and for the final c ([B, H], when returned). */
function splitStateGrad(dy: tf.Tensor, withState: boolean, T: number): { dyH: tf.Tensor3D; dcLast?: tf.Tensor2D } {
  if (!withState) return { dyH: dy as tf.Tensor3D };
  const [B, , H] = dy.shape as [number, number, number];
  const [a, bLast] = tf.split(dy, [T, 1], 1);
  return { dyH: a as tf.Tensor3D, dcLast: tf.reshape(bLast!, [B, H]) as tf.Tensor2D };
}

/**
 * The wasm path (rnn-kernels.ts): per step forward the h·U matmul, an Add, one Sigmoid op and one cell
 * kernel; backward one gate-gradient kernel and the dz·Uᵀ matmul. Saved (only while a gradient is
 * recorded): x (time-major rows), W, U, h0, h of every step, c_0 … c_T and the gate activations [T, B, 5H].
 */
const lstmForwardKernels: SequenceFn = (x, W, U, b, h0, c0, withState, save) => {
  const [B, T, inDim] = x.shape;
  const H = U.shape[0];
  const xtm = tf.reshape(tf.transpose(x, [1, 0, 2]), [T * B, inDim]) as tf.Tensor2D;
  const xw = tf.fused.matMul({ a: xtm, b: W, bias: b }); // [T·B, 4H], time-major rows
  const xws = tf.unstack(tf.reshape(xw, [T, B, 4 * H]));
  const training = recordingGradients();
  let h: tf.Tensor2D = h0;
  let c: tf.Tensor2D = c0;
  const hs: tf.Tensor2D[] = [];
  const cs: tf.Tensor2D[] = [c0];
  const acts: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const [hn, cn, act] = lstmCell(tf.add(xws[t]!, tf.matMul(h, U)), c, training);
    h = hn!;
    c = cn!;
    hs.push(h);
    if (training) {
      cs.push(c);
      acts.push(act!);
    }
  }
  const hsTm = tf.stack(hs) as tf.Tensor3D; // [T, B, H]
  const out = tf.transpose(hsTm, [1, 0, 2]); // [B, T, H]
  const value = withState ? tf.concat([out, tf.expandDims(c, 1)], 1) : out;
  if (training) save([xtm, W, U, h0, tf.reshape(hsTm, [T * B, H]), tf.stack(cs), tf.stack(acts)]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
    tf.tidy(() => {
      const [sx, sW, sU, sh0, sHs, sC, sAct] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D];
      const { dyH, dcLast } = splitStateGrad(dy, withState, T);
      const dyTm = tf.transpose(dyH, [1, 0, 2]) as tf.Tensor3D; // [T, B, H]
      const UT = tf.transpose(sU); // untransposed operand for the per-step matmul (fast path)
      let dh: tf.Tensor2D | undefined;
      let dc: tf.Tensor2D | undefined = dcLast;
      const dzs: tf.Tensor2D[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) {
        const [dz, dcPrev] = lstmStepGrad(dyTm, dh, dc, sAct, sC, t);
        dzs[t] = dz;
        dc = dcPrev;
        dh = tf.matMul(dz, UT) as tf.Tensor2D;
      }
      return weightGrads(tf.concat(dzs, 0), sx, sW, sh0, sHs, B, T, inDim, H, dh!, dc!);
    });
  return { value, gradFunc };
};

/** dx, dW, dU, db from dZ [T·B, 4H] (time-major rows), plus the initial-state gradients, in customGrad's input order. */
function weightGrads(dZ: tf.Tensor2D, sx: tf.Tensor2D, sW: tf.Tensor2D, sh0: tf.Tensor2D, sHs: tf.Tensor2D, B: number, T: number, inDim: number, H: number, dh0: tf.Tensor2D, dc0: tf.Tensor2D): tf.Tensor[] {
  const dxTm = tf.matMul(dZ, tf.transpose(sW)); // [T·B, in]
  const dx = tf.transpose(tf.reshape(dxTm, [T, B, inDim]), [1, 0, 2]);
  const dW = tf.matMul(sx, dZ, true, false);
  const hPrev = T > 1 ? tf.concat([sh0, tf.slice(sHs, [0, 0], [(T - 1) * B, H])], 0) : sh0;
  const dU = tf.matMul(hPrev, dZ, true, false);
  const db = columnSum(dZ);
  return [dx, dW, dU, db, dh0, dc0];
}

/** The tf-ops path (every backend other than wasm). */
const lstmForward: SequenceFn = (x, W, U, b, h0, c0, withState, save) => {
  const [B, T, inDim] = x.shape;
  const H = U.shape[0];
  // Time-major rows (t·B + b) so that each step's rows are one contiguous (copy-free) slice.
  const xtm = tf.reshape(tf.transpose(x, [1, 0, 2]), [T * B, inDim]) as tf.Tensor2D;
  const xw = tf.add(tf.matMul(xtm, W), b);
  const xws = tf.unstack(tf.reshape(xw, [T, B, 4 * H]));
  let h: tf.Tensor2D = h0;
  let c: tf.Tensor2D = c0;
  const hs: tf.Tensor2D[] = [];
  const cs: tf.Tensor2D[] = [c0];
  const ss: tf.Tensor2D[] = [];
  const gs: tf.Tensor2D[] = [];
  const tcs: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const z = tf.add(xws[t]!, tf.matMul(h, U));
    // sigmoid of all 4H columns (the c-gate's quarter is unused) is one op instead of three.
    const s = tf.sigmoid(z) as tf.Tensor2D;
    const [i, f, , o] = tf.split(s, 4, 1);
    const g = tf.tanh(tf.slice(z, [0, 2 * H], [B, H])) as tf.Tensor2D;
    c = tf.add(tf.mul(f!, c), tf.mul(i!, g)) as tf.Tensor2D;
    const tc = tf.tanh(c) as tf.Tensor2D;
    h = tf.mul(o!, tc) as tf.Tensor2D;
    hs.push(h);
    cs.push(c);
    ss.push(s);
    gs.push(g);
    tcs.push(tc);
  }
  const hsTm = tf.stack(hs) as tf.Tensor3D; // [T, B, H]
  const out = tf.transpose(hsTm, [1, 0, 2]); // [B, T, H]
  const value = withState ? tf.concat([out, tf.expandDims(c, 1)], 1) : out;
  // Saved for the backward pass (kept only when a gradient tape is recording).
  save([
    xtm,
    W,
    U,
    h0,
    tf.reshape(hsTm, [T * B, H]),
    tf.stack(cs), // [T+1, B, H]: c_0 … c_T
    tf.stack(ss), // [T, B, 4H]: sigmoid of every gate pre-activation
    tf.stack(gs), // [T, B, H]: tanh of the c-gate pre-activation
    tf.stack(tcs), // [T, B, H]: tanh(c_t)
  ]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
    tf.tidy(() => {
      const [sx, sW, sU, sh0, sHs, sC, sS, sG, sTC] = saved as [
        tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D,
      ];
      const { dyH, dcLast } = splitStateGrad(dy, withState, T);
      let dcNext = dcLast;
      // Recurrence-independent factors, for all steps at once.
      const [I, F, , O] = tf.split(sS, 4, 2) as tf.Tensor3D[];
      const cPrev = tf.slice(sC, [0, 0, 0], [T, B, H]);
      const one = tf.scalar(1);
      const dI = tf.mul(I!, tf.sub(one, I!));
      const dF = tf.mul(F!, tf.sub(one, F!));
      const dO = tf.mul(O!, tf.sub(one, O!));
      // dz = [dc, dc, dc, dh] ⊙ M with M = [g·σ'(i), c_{t-1}·σ'(f), i·tanh'(g), tanh(c_t)·σ'(o)]
      const M = tf.concat([tf.mul(sG, dI), tf.mul(cPrev, dF), tf.mul(I!, tf.sub(one, tf.square(sG))), tf.mul(sTC, dO)], 2);
      // dc_t += dh_t · o_t · tanh'(c_t)
      const A = tf.mul(O!, tf.sub(one, tf.square(sTC)));
      const Ms = tf.unstack(M) as tf.Tensor2D[];
      const As = tf.unstack(A) as tf.Tensor2D[];
      const Fs = tf.unstack(F!) as tf.Tensor2D[];
      const dys = tf.unstack(tf.transpose(dyH, [1, 0, 2])) as tf.Tensor2D[];
      const UT = tf.transpose(sU); // untransposed operand for the per-step matmul (fast path)
      let dhNext: tf.Tensor2D | undefined;
      const dzs: tf.Tensor2D[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) {
        const dh = dhNext ? tf.add(dys[t]!, dhNext) : dys[t]!;
        const dhc = tf.mul(dh, As[t]!);
        const dc = dcNext ? tf.add(dcNext, dhc) : dhc;
        const dz = tf.mul(tf.concat([dc, dc, dc, dh], 1), Ms[t]!) as tf.Tensor2D;
        dzs[t] = dz;
        dcNext = tf.mul(dc, Fs[t]!) as tf.Tensor2D;
        dhNext = tf.matMul(dz, UT) as tf.Tensor2D;
      }
      return weightGrads(tf.concat(dzs, 0), sx, sW, sh0, sHs, B, T, inDim, H, dhNext!, dcNext!);
    });
  return { value, gradFunc };
};

// ---------------------------------------------------------------------------------------------
// Layer

export interface FusedLSTMArgs extends FusedRecurrentArgs {
  /** Default true (as Keras; tf.layers.lstm defaults to false): the forget-gate quarter of the bias starts at 1. */
  unitForgetBias?: boolean;
}

/** LSTM layer on fusedLstm; with returnState it outputs [output, h, c] like tf.layers.lstm. */
export class FusedLSTM extends FusedRecurrentLayer {
  static className = 'FusedLSTM';
  readonly unitForgetBias: boolean;
  protected readonly gates = 4;
  protected readonly stateCount = 2;

  constructor(args: FusedLSTMArgs) {
    const { unitForgetBias, ...rest } = args;
    super(rest, 'FusedLSTM');
    this.unitForgetBias = unitForgetBias ?? true;
  }

  protected override initializeBias(bias: tf.LayerVariable): void {
    if (!this.unitForgetBias) return;
    const H = this.units;
    const init = this.biasInitializer;
    const value = tf.tidy(() => {
      const v = init.apply([4 * H]);
      return tf.concat([tf.slice(v, [0], [H]), tf.ones([H]), tf.slice(v, [2 * H], [2 * H])]);
    });
    bias.write(value);
    value.dispose();
  }

  protected runSequence(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, withStates: boolean): SequenceResult {
    const r = fusedLstm(x, kernel, recurrent, bias, { returnState: withStates });
    return { output: r.output, states: withStates ? [r.h!, r.c!] : [] };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}
tf.serialization.registerClass(FusedLSTM);

/** Factory in the style of tf.layers.lstm. */
export function fusedLSTM(args: FusedLSTMArgs): FusedLSTM {
  return new FusedLSTM(args);
}
