/**
 * One kernel per recurrent step for the wasm backend: the LSTM and GRU gate math (non-linearities,
 * cell update) and its derivatives as JS kernels working directly on the wasm heap, so that a step of
 * the fused sequence layers (fused-lstm.ts, fused-gru.ts) and of stateful decoding (cell-step.ts) is
 * its recurrent matmul(s) plus one kernel (LSTM training: plus one Add and one Sigmoid op), forward
 * and backward, instead of ~11 forward and ~7 backward tf ops, each paying the engine's dispatch cost.
 * Measured (bench/README.md): at training sizes (LSTM(256), batch 32) the step is matmul-bound and
 * the kernels change little; at decode sizes (batch 1) they make a token ~1.4× faster.
 *
 * Contract: every kernel computes what the tf-ops path beside its caller computes, up to float32
 * rounding and the activation approximation below (|error| ≤ 3e-7); equality of values and gradients
 * with tf.layers.lstm/gru is tested in test/unit/fused-rnn.test.ts and test/unit/rnn-kernels.test.ts.
 * On any backend other than wasm (or when switched off with `setRnnKernels(false)`) callers use their
 * tf-ops path.
 *
 * LSTM training (and decoding of many rows): the gates are activated by wasm's vectorised Sigmoid op
 * and one kernel does the cell update (lstmCell); decoding of a few rows activates in JS (lstmStep).
 * Sequence-wide inputs (the input projection xw of every step, saved activations, incoming
 * gradients) are passed whole, time-major [T, B, ·], with the step index `t` as an attribute: no
 * per-step slice op. Outputs are allocated with `makeOutput` BEFORE heap views are taken (an
 * allocation may grow, and so detach, the heap).
 *
 * Activations: tanh is Eigen's float rational approximation (odd degree-13 over even degree-6
 * polynomial, clamped at ±7.9053; max |error| 2.6e-7 against Math.tanh) and sigmoid(x) =
 * ½ + ½·tanh(x/2): ~3 ns per element against ~35 ns for Math.exp/Math.tanh on this machine.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelParams = Parameters<tf.KernelFunc>[0];

const LSTM_STEP = 'SeqserveLstmStep';
const LSTM_STEP_GRAD = 'SeqserveLstmStepGrad';
const LSTM_CELL = 'SeqserveLstmCell';
const GRU_GATES = 'SeqserveGruGates';
const GRU_OUT = 'SeqserveGruOut';
const GRU_GRAD_OUT = 'SeqserveGruGradOut';
const GRU_GRAD_GATES = 'SeqserveGruGradGates';
const GRU_RESET = 'SeqserveGruReset';
const GRU_OUT_SIG = 'SeqserveGruOutSig';

let enabled = true;
/** Test/bench hook: false makes every caller use its tf-ops path. */
export function setRnnKernels(on: boolean): void {
  enabled = on;
}

let registered = false;
/** True when the step kernels are to be used now (wasm backend, not switched off). */
export function rnnKernelsActive(): boolean {
  if (!enabled || tf.getBackend() !== 'wasm') return false;
  if (!registered) {
    const kernels: [string, (p: KernelParams) => TensorInfo | TensorInfo[]][] = [
      [LSTM_STEP, lstmStepKernel], [LSTM_STEP_GRAD, lstmStepGradKernel], [LSTM_CELL, lstmCellKernel],
      [GRU_GATES, gruGatesKernel], [GRU_OUT, gruOutKernel], [GRU_GRAD_OUT, gruGradOutKernel], [GRU_GRAD_GATES, gruGradGatesKernel],
      [GRU_RESET, gruResetKernel], [GRU_OUT_SIG, gruOutSigKernel],
    ];
    for (const [kernelName, kernelFunc] of kernels) {
      if (tf.getKernel(kernelName, 'wasm') == null) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
    }
    registered = true;
  }
  return true;
}

/**
 * True while a gradient is being recorded (inside tf.grad / variableGrads / minimize): a sequence's
 * forward pass saves its activations for BPTT only then (an encoder at serving time, a validation
 * pass and a prefill skip the copies).
 */
export function recordingGradients(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

const heap = (b: BackendWasm, t: TensorInfo) => b.typedArrayFromHeap(t) as Float32Array;
const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number | boolean>) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];

// Eigen's generic_fast_tanh_float coefficients.
const CLAMP = 7.90531110763549805;
const A1 = 4.89352455891786e-3, A3 = 6.37261928875436e-4, A5 = 1.48572235717979e-5, A7 = 5.12229709037114e-8;
const A9 = -8.60467152213735e-11, A11 = 2.00018790482477e-13, A13 = -2.76076847742355e-16;
const B0 = 4.89352518554385e-3, B2 = 2.268434632439e-3, B4 = 1.18534705686654e-4, B6 = 1.19825839466702e-6;

/** tanh(x), |error| ≤ 2.6e-7. */
export function tanhApprox(x: number): number {
  if (x > CLAMP) x = CLAMP;
  else if (x < -CLAMP) x = -CLAMP;
  const x2 = x * x;
  const p = x * (((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1));
  const q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
  return p / q;
}

/** 1 / (1 + e^−x), |error| ≤ 1.3e-7. */
export function sigmoidApprox(x: number): number {
  return 0.5 + 0.5 * tanhApprox(0.5 * x);
}

// ---------------------------------------------------------------------------------------------
// LSTM (gate order i, f, g, o; Keras layout)

/**
 * A decode step t (no gradient): inputs xw [T, B, 4H] (x·W + b of every step, or [B, 4H] with
 * t = 0), hu [B, 4H] (h_{t-1}·U), c [B, H] (c_{t-1}); outputs h, c [B, H]. All activations in JS: at
 * decode sizes (a few rows) one kernel costs less than a Sigmoid op's dispatch.
 */
function lstmStepKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { xw, hu, c } = inputs as Record<'xw' | 'hu' | 'c', TensorInfo>;
  const t = (attrs as unknown as { t: number }).t;
  const [B, G] = hu.shape as [number, number];
  const H = G / 4;
  const hOut = b.makeOutput([B, H], 'float32');
  const cOut = b.makeOutput([B, H], 'float32');
  const XW = heap(b, xw), HU = heap(b, hu), C = heap(b, c), HO = heap(b, hOut), CO = heap(b, cOut);
  const base = t * B * G;
  for (let r = 0; r < B; r++) {
    const zo = r * G, xo = base + zo, so = r * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoidApprox(XW[xo + j]! + HU[zo + j]!);
      const f = sigmoidApprox(XW[xo + H + j]! + HU[zo + H + j]!);
      const g = tanhApprox(XW[xo + 2 * H + j]! + HU[zo + 2 * H + j]!);
      const o = sigmoidApprox(XW[xo + 3 * H + j]! + HU[zo + 3 * H + j]!);
      const cn = f * C[so + j]! + i * g;
      CO[so + j] = cn;
      HO[so + j] = o * tanhApprox(cn);
    }
  }
  return [hOut, cOut];
}

/**
 * The cell update from gates activated by wasm's Sigmoid op (XNNPACK's, vectorised: ~1 ns per element
 * against ~6 ns for the scalar JS activations here; wasm's Tanh op is not vectorised, ~7 ns).
 * Inputs: sig [B, 4H] = σ of the gate pre-activations, c [B, H]. tanh(g) comes from s = σ(g) exactly:
 * with u = 2s − 1 = tanh(g/2), tanh(g) = 2u / (1 + u²). Outputs h, c [B, H] and, with attr `save`,
 * act [B, 5H]: σ(i), σ(f), tanh(g), σ(o), tanh(c_t), what the backward step needs.
 */
function lstmCellKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { sig, c } = inputs as Record<'sig' | 'c', TensorInfo>;
  const save = (attrs as unknown as { save: boolean }).save;
  const [B, G] = sig.shape as [number, number];
  const H = G / 4;
  const hOut = b.makeOutput([B, H], 'float32');
  const cOut = b.makeOutput([B, H], 'float32');
  const act = save ? b.makeOutput([B, 5 * H], 'float32') : null;
  const S = heap(b, sig), C = heap(b, c), HO = heap(b, hOut), CO = heap(b, cOut);
  const A = act ? heap(b, act) : null;
  for (let r = 0; r < B; r++) {
    const zo = r * G, so = r * H, ao = r * 5 * H;
    for (let j = 0; j < H; j++) {
      const i = S[zo + j]!, f = S[zo + H + j]!, o = S[zo + 3 * H + j]!;
      const u = 2 * S[zo + 2 * H + j]! - 1;
      const g = (2 * u) / (1 + u * u);
      const cn = f * C[so + j]! + i * g;
      const tc = tanhApprox(cn);
      CO[so + j] = cn;
      HO[so + j] = o * tc;
      if (A) {
        A[ao + j] = i;
        A[ao + H + j] = f;
        A[ao + 2 * H + j] = g;
        A[ao + 3 * H + j] = o;
        A[ao + 4 * H + j] = tc;
      }
    }
  }
  return act ? [hOut, cOut, act] : [hOut, cOut];
}

/**
 * LSTM step from the gate pre-activations z [B, 4H]: one Sigmoid op and one cell kernel (see
 * lstmCellKernel). Returns [h, c] or, with `save`, [h, c, act].
 */
export function lstmCell(z: tf.Tensor2D, c: tf.Tensor2D, save: boolean): tf.Tensor2D[] {
  return run(LSTM_CELL, { sig: tf.sigmoid(z), c }, { save }) as tf.Tensor2D[];
}

/**
 * Decoding: below this many cells per step (B·H) the all-JS step kernel (lstmStep) is faster than a
 * Sigmoid op plus the cell kernel (lstmCell): the op's dispatch (~10 µs) outweighs the JS
 * activations' extra ~17 ns per cell (measured on the build machine).
 */
export const LSTM_CELL_MIN_CELLS = 1024;

/**
 * Backward step t. Inputs: dy [T, B, H] (gradient reaching h_t from outside the recurrence), dh
 * [B, H] (from h_{t+1}'s matmul: dz_{t+1}·Uᵀ; ignored when attr hasDh is false), dc [B, H] (from
 * c_{t+1}; ignored when hasDc is false), act [T, B, 5H] (saved forward activations), cs [T+1, B, H]
 * (c_0 … c_T). Outputs: dz [B, 4H] (gradient of the gate pre-activations) and dcPrev [B, H]:
 *   dh = dy_t + dh;  dc += dh·o·(1 − tanh²c);  dz = [dc·g·σ'(i), dc·c_{t-1}·σ'(f), dc·i·(1 − g²), dh·tanh c·σ'(o)];
 *   dcPrev = dc·f.
 */
function lstmStepGradKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { dy, dh, dc, act, cs } = inputs as Record<'dy' | 'dh' | 'dc' | 'act' | 'cs', TensorInfo>;
  const { t, hasDh, hasDc } = attrs as unknown as { t: number; hasDh: boolean; hasDc: boolean };
  const [, B, H] = dy.shape as [number, number, number];
  const dzOut = b.makeOutput([B, 4 * H], 'float32');
  const dcOut = b.makeOutput([B, H], 'float32');
  const DY = heap(b, dy), DH = heap(b, dh), DC = heap(b, dc), A = heap(b, act), CS = heap(b, cs);
  const DZ = heap(b, dzOut), DCO = heap(b, dcOut);
  const yo = t * B * H, ab = t * B * 5 * H, co = t * B * H; // cs[t] is c_{t-1}
  for (let r = 0; r < B; r++) {
    const so = r * H, ao = ab + r * 5 * H, zo = r * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = A[ao + j]!, f = A[ao + H + j]!, g = A[ao + 2 * H + j]!, o = A[ao + 3 * H + j]!, tc = A[ao + 4 * H + j]!;
      const dhv = DY[yo + so + j]! + (hasDh ? DH[so + j]! : 0);
      const dcv = (hasDc ? DC[so + j]! : 0) + dhv * o * (1 - tc * tc);
      DZ[zo + j] = dcv * g * i * (1 - i);
      DZ[zo + H + j] = dcv * CS[co + so + j]! * f * (1 - f);
      DZ[zo + 2 * H + j] = dcv * i * (1 - g * g);
      DZ[zo + 3 * H + j] = dhv * tc * o * (1 - o);
      DCO[so + j] = dcv * f;
    }
  }
  return [dzOut, dcOut];
}

/** LSTM decode step t (see lstmStepKernel): [h, c]. */
export function lstmStep(xw: tf.Tensor, hu: tf.Tensor2D, c: tf.Tensor2D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  return run(LSTM_STEP, { xw, hu, c }, { t }) as [tf.Tensor2D, tf.Tensor2D];
}

/** LSTM backward step t (see lstmStepGradKernel): [dz, dcPrev]. Missing dh/dc count as zero. */
export function lstmStepGrad(dy: tf.Tensor3D, dh: tf.Tensor2D | undefined, dc: tf.Tensor2D | undefined, act: tf.Tensor3D, cs: tf.Tensor3D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  return run(LSTM_STEP_GRAD, { dy, dh: dh ?? dy, dc: dc ?? dy, act, cs }, { t, hasDh: dh !== undefined, hasDc: dc !== undefined }) as [tf.Tensor2D, tf.Tensor2D];
}

// ---------------------------------------------------------------------------------------------
// GRU (gate order z, r, h; reset before the recurrent matmul, Keras reset_after=false)
//   zr = σ(xzr + h·Uzr);  rh = r ⊙ h;  hh = tanh(xh + rh·Uh);  h' = z ⊙ h + (1 − z) ⊙ hh

/**
 * Gates of step t. Inputs: xw [T, B, 3H] (or [B, 3H] with t = 0), hu [B, 2H] (h·Uzr), h [B, H].
 * Outputs: zr [B, 2H] = σ(xw[:, :2H] + hu), rh [B, H] = r ⊙ h.
 */
function gruGatesKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { xw, hu, h } = inputs as Record<'xw' | 'hu' | 'h', TensorInfo>;
  const t = (attrs as unknown as { t: number }).t;
  const [B, H] = h.shape as [number, number];
  const zrOut = b.makeOutput([B, 2 * H], 'float32');
  const rhOut = b.makeOutput([B, H], 'float32');
  const XW = heap(b, xw), HU = heap(b, hu), Hs = heap(b, h), ZR = heap(b, zrOut), RH = heap(b, rhOut);
  const base = t * B * 3 * H;
  for (let r = 0; r < B; r++) {
    const xo = base + r * 3 * H, uo = r * 2 * H, so = r * H;
    for (let j = 0; j < 2 * H; j++) ZR[uo + j] = sigmoidApprox(XW[xo + j]! + HU[uo + j]!);
    for (let j = 0; j < H; j++) RH[so + j] = ZR[uo + H + j]! * Hs[so + j]!;
  }
  return [zrOut, rhOut];
}

/**
 * Output of step t. Inputs: xw [T, B, 3H] (or [B, 3H], t = 0), ru [B, H] (rh·Uh), zr [B, 2H], h
 * [B, H] (h_{t-1}). Outputs: h' [B, H] and hh [B, H] (the candidate, saved for backward).
 */
function gruOutKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { xw, ru, zr, h } = inputs as Record<'xw' | 'ru' | 'zr' | 'h', TensorInfo>;
  const t = (attrs as unknown as { t: number }).t;
  const [B, H] = h.shape as [number, number];
  const hOut = b.makeOutput([B, H], 'float32');
  const hhOut = b.makeOutput([B, H], 'float32');
  const XW = heap(b, xw), RU = heap(b, ru), ZR = heap(b, zr), Hs = heap(b, h), HO = heap(b, hOut), HH = heap(b, hhOut);
  const base = t * B * 3 * H;
  for (let r = 0; r < B; r++) {
    const xo = base + r * 3 * H + 2 * H, so = r * H, zo = r * 2 * H;
    for (let j = 0; j < H; j++) {
      const hh = tanhApprox(XW[xo + j]! + RU[so + j]!);
      const z = ZR[zo + j]!;
      HH[so + j] = hh;
      HO[so + j] = hh + z * (Hs[so + j]! - hh);
    }
  }
  return [hOut, hhOut];
}

/** zr [B, 2H] (σ of the z, r pre-activations), h [B, H] → rh [B, H] = r ⊙ h. */
function gruResetKernel({ inputs, backend }: KernelParams): TensorInfo {
  const b = backend as BackendWasm;
  const { zr, h } = inputs as Record<'zr' | 'h', TensorInfo>;
  const [B, H] = h.shape as [number, number];
  const rhOut = b.makeOutput([B, H], 'float32');
  const ZR = heap(b, zr), Hs = heap(b, h), RH = heap(b, rhOut);
  for (let r = 0; r < B; r++) {
    const uo = r * 2 * H + H, so = r * H;
    for (let j = 0; j < H; j++) RH[so + j] = ZR[uo + j]! * Hs[so + j]!;
  }
  return rhOut;
}

/**
 * Output of a step from s [B, H] = σ(candidate pre-activation) (wasm's vectorised Sigmoid op; tanh
 * from it exactly: u = 2s − 1, hh = 2u / (1 + u²)), zr [B, 2H], h [B, H] (h_{t-1}). Outputs h' [B, H]
 * and hh [B, H].
 */
function gruOutSigKernel({ inputs, backend }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { s: sig, zr, h } = inputs as Record<'s' | 'zr' | 'h', TensorInfo>;
  const [B, H] = h.shape as [number, number];
  const hOut = b.makeOutput([B, H], 'float32');
  const hhOut = b.makeOutput([B, H], 'float32');
  const S = heap(b, sig), ZR = heap(b, zr), Hs = heap(b, h), HO = heap(b, hOut), HH = heap(b, hhOut);
  for (let r = 0; r < B; r++) {
    const so = r * H, zo = r * 2 * H;
    for (let j = 0; j < H; j++) {
      const u = 2 * S[so + j]! - 1;
      const hh = (2 * u) / (1 + u * u);
      const z = ZR[zo + j]!;
      HH[so + j] = hh;
      HO[so + j] = hh + z * (Hs[so + j]! - hh);
    }
  }
  return [hOut, hhOut];
}

/**
 * First half of backward step t. Inputs: dy [T, B, H], dhA, dhB [B, H] (the two parts of the
 * gradient from step t+1: dh·z + drh·r, and dzr·Uzrᵀ; ignored when attr hasDh is false), zr
 * [T, B, 2H], hh [T, B, H]. Outputs: dh [B, H] (total gradient at h_t) and dhp [B, H] = dh·(1−z)·(1−hh²)
 * (gradient of the candidate's pre-activation).
 */
function gruGradOutKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { dy, dhA, dhB, zr, hh } = inputs as Record<'dy' | 'dhA' | 'dhB' | 'zr' | 'hh', TensorInfo>;
  const { t, hasDh } = attrs as unknown as { t: number; hasDh: boolean };
  const [, B, H] = dy.shape as [number, number, number];
  const dhOut = b.makeOutput([B, H], 'float32');
  const dhpOut = b.makeOutput([B, H], 'float32');
  const DY = heap(b, dy), DA = heap(b, dhA), DB = heap(b, dhB), ZR = heap(b, zr), HH = heap(b, hh), DH = heap(b, dhOut), DP = heap(b, dhpOut);
  const yo = t * B * H, zb = t * B * 2 * H;
  for (let r = 0; r < B; r++) {
    const so = r * H, zo = zb + r * 2 * H;
    for (let j = 0; j < H; j++) {
      const d = DY[yo + so + j]! + (hasDh ? DA[so + j]! + DB[so + j]! : 0);
      const z = ZR[zo + j]!, hv = HH[yo + so + j]!;
      DH[so + j] = d;
      DP[so + j] = d * (1 - z) * (1 - hv * hv);
    }
  }
  return [dhOut, dhpOut];
}

/**
 * Second half of backward step t. Inputs: dh [B, H], drh [B, H] (dhp·Uhᵀ), zr [T, B, 2H], hh
 * [T, B, H], hPrev [T, B, H] (h_{t-1} of every step). Outputs: dzr [B, 2H] =
 * [dh·(h_{t-1} − hh)·σ'(z), drh·h_{t-1}·σ'(r)] and dhA [B, H] = dh·z + drh·r (the part of dh_{t-1}
 * that does not go through Uzr).
 */
function gruGradGatesKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { dh, drh, zr, hh, hPrev } = inputs as Record<'dh' | 'drh' | 'zr' | 'hh' | 'hPrev', TensorInfo>;
  const t = (attrs as unknown as { t: number }).t;
  const [B, H] = dh.shape as [number, number];
  const dzrOut = b.makeOutput([B, 2 * H], 'float32');
  const dhAOut = b.makeOutput([B, H], 'float32');
  const DH = heap(b, dh), DRH = heap(b, drh), ZR = heap(b, zr), HH = heap(b, hh), HP = heap(b, hPrev), DZR = heap(b, dzrOut), DA = heap(b, dhAOut);
  const so0 = t * B * H, zb = t * B * 2 * H;
  for (let r = 0; r < B; r++) {
    const so = r * H, zo = zb + r * 2 * H, oo = r * 2 * H;
    for (let j = 0; j < H; j++) {
      const z = ZR[zo + j]!, rr = ZR[zo + H + j]!, hp = HP[so0 + so + j]!, hv = HH[so0 + so + j]!;
      const d = DH[so + j]!, dr = DRH[so + j]!;
      DZR[oo + j] = d * (hp - hv) * z * (1 - z);
      DZR[oo + H + j] = dr * hp * rr * (1 - rr);
      DA[so + j] = d * z + dr * rr;
    }
  }
  return [dzrOut, dhAOut];
}

/** GRU gates of step t (see gruGatesKernel): [zr, rh]. */
export function gruGates(xw: tf.Tensor, hu: tf.Tensor2D, h: tf.Tensor2D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  return run(GRU_GATES, { xw, hu, h }, { t }) as [tf.Tensor2D, tf.Tensor2D];
}

/**
 * A GRU step from the projected input of the step, xzr [B, 2H] and xh [B, H], with wasm's Sigmoid op
 * activating the gates (two Add, two Sigmoid, two matmuls, two kernels: cheaper than the all-JS
 * gruGates/gruOut from ~1024 cells per step on). Returns [h', zr, rh, hh].
 */
export function gruStepSig(xzr: tf.Tensor2D, xh: tf.Tensor2D, h: tf.Tensor2D, Uzr: tf.Tensor2D, Uh: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const zr = tf.sigmoid(tf.add(xzr, tf.matMul(h, Uzr))) as tf.Tensor2D;
  const rh = tf.engine().runKernel(GRU_RESET, { zr, h }, {}) as tf.Tensor2D;
  const s = tf.sigmoid(tf.add(xh, tf.matMul(rh, Uh)));
  const [hn, hh] = run(GRU_OUT_SIG, { s, zr, h }, {}) as [tf.Tensor2D, tf.Tensor2D];
  return [hn, zr, rh, hh];
}

/** Decoding: from this many cells per step (B·H) on, a GRU step uses gruStepSig (see LSTM_CELL_MIN_CELLS). */
export const GRU_SIG_MIN_CELLS = 1024;

/** GRU output of step t (see gruOutKernel): [h', hh]. */
export function gruOut(xw: tf.Tensor, ru: tf.Tensor2D, zr: tf.Tensor2D, h: tf.Tensor2D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  return run(GRU_OUT, { xw, ru, zr, h }, { t }) as [tf.Tensor2D, tf.Tensor2D];
}

/** GRU backward, first half of step t (see gruGradOutKernel): [dh, dhp]. Missing dhA/dhB count as zero. */
export function gruGradOut(dy: tf.Tensor3D, dhA: tf.Tensor2D | undefined, dhB: tf.Tensor2D | undefined, zr: tf.Tensor3D, hh: tf.Tensor3D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  const has = dhA !== undefined && dhB !== undefined;
  return run(GRU_GRAD_OUT, { dy, dhA: dhA ?? dy, dhB: dhB ?? dy, zr, hh }, { t, hasDh: has }) as [tf.Tensor2D, tf.Tensor2D];
}

/** GRU backward, second half of step t (see gruGradGatesKernel): [dzr, dhA]. */
export function gruGradGates(dh: tf.Tensor2D, drh: tf.Tensor2D, zr: tf.Tensor3D, hh: tf.Tensor3D, hPrev: tf.Tensor3D, t: number): [tf.Tensor2D, tf.Tensor2D] {
  return run(GRU_GRAD_GATES, { dh, drh, zr, hh, hPrev }, { t }) as [tf.Tensor2D, tf.Tensor2D];
}
