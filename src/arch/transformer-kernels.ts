/**
 * Fused pieces of the Transformer (arch/transformer.ts) for the wasm backend: LayerNorm and the
 * dense layer's bias gradient as JS kernels working directly on the wasm heap, each behind a
 * `tf.customGrad` node, so that a training step runs a handful of kernels where the plain-op path runs
 * dozens of tiny ones (LayerNorm alone is 9 ops forward and ~20 backward; its row reductions and the
 * bias gradient's column sum run on wasm's Sum, which transposes first).
 *
 * Contract: every function here computes exactly what the plain tf-ops reference next to it computes
 * (`layerNormOps`, `geluOps`, `denseOps`), up to float32 rounding; on any backend other than wasm the
 * reference is used. Equality of values and gradients is tested in test/unit/transformer-kernels.test.ts.
 * GELU keeps wasm's Erf/Exp kernels with a hand-written gradient: a JS GELU kernel was measured and
 * dropped (12 ms per [768, 512] call against ~3.5 ms for the wasm ops; Math.exp and the JS loop are
 * too slow on this machine).
 * Kernels are registered for 'wasm' on first use (names prefixed `Seqserve`); outputs are allocated
 * with `makeOutput` BEFORE heap views are taken (an allocation may grow and detach the heap).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { columnSum } from './column-sum.ts';

type TensorInfo = tf.TensorInfo;
type KernelParams = Parameters<tf.KernelFunc>[0];
type SaveFn = (tensors: tf.Tensor[]) => void;

const LN = 'SeqserveLayerNorm';
const LN_GRAD = 'SeqserveLayerNormGrad';

export type FusedPiece = 'layerNorm' | 'dense' | 'gelu';
const pieces: Record<FusedPiece, boolean> = { layerNorm: true, dense: true, gelu: true };
let enabled = true;
/**
 * Test/bench hook: false forces the plain-op reference on every backend; an object switches single
 * pieces (the others keep their state).
 */
export function setFusedKernels(on: boolean | Partial<Record<FusedPiece, boolean>>): void {
  if (typeof on === 'boolean') enabled = on;
  else Object.assign(pieces, on);
}

let registered = false;
/** True when the fused kernels are to be used now (wasm backend, not switched off). */
export function fusedKernelsActive(piece?: FusedPiece): boolean {
  if (!enabled || tf.getBackend() !== 'wasm' || (piece && !pieces[piece])) return false;
  if (!registered) {
    for (const [kernelName, kernelFunc] of [[LN, layerNormKernel], [LN_GRAD, layerNormGradKernel]] as const) {
      if (tf.getKernel(kernelName, 'wasm') == null) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
    }
    registered = true;
  }
  return true;
}

const heap = (b: BackendWasm, t: TensorInfo) => b.typedArrayFromHeap(t) as Float32Array;

// ---------------------------------------------------------------------------------------------
// LayerNorm over the last axis: x [N, C], gamma [C], beta [C] → y [N, C] (+ mean [N], rstd [N])

/** y = (x − mean) · rsqrt(var + eps) · gamma + beta, var the biased variance over the row (reference). */
export function layerNormOps(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Outputs [y [N, C], mean [N], rstd [N]]; row statistics accumulated in float64. */
function layerNormKernel({ inputs, backend, attrs }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const eps = (attrs as { eps: number }).eps;
  const [N, C] = x.shape as [number, number];
  const y = b.makeOutput([N, C], 'float32');
  const mean = b.makeOutput([N], 'float32');
  const rstd = b.makeOutput([N], 'float32');
  const X = heap(b, x), G = heap(b, gamma), Bt = heap(b, beta), Y = heap(b, y), M = heap(b, mean), R = heap(b, rstd);
  for (let n = 0, o = 0; n < N; n++, o += C) {
    let s = 0;
    for (let c = 0; c < C; c++) s += X[o + c]!;
    const mu = s / C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = X[o + c]! - mu;
      v += d * d;
    }
    const r = 1 / Math.sqrt(v / C + eps);
    M[n] = mu;
    R[n] = r;
    for (let c = 0; c < C; c++) Y[o + c] = (X[o + c]! - mu) * r * G[c]! + Bt[c]!;
  }
  return [y, mean, rstd];
}

/**
 * dy, x [N, C], mean, rstd [N], gamma [C] → [dx [N, C], dgamma [C], dbeta [C]]:
 * x̂ = (x − mean)·rstd, g = dy·gamma, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
 * dgamma = Σ_rows dy·x̂, dbeta = Σ_rows dy.
 */
function layerNormGradKernel({ inputs, backend }: KernelParams): TensorInfo[] {
  const b = backend as BackendWasm;
  const { dy, x, mean, rstd, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma', TensorInfo>;
  const [N, C] = x.shape as [number, number];
  const dx = b.makeOutput([N, C], 'float32');
  const dg = b.makeOutput([C], 'float32');
  const db = b.makeOutput([C], 'float32');
  const DY = heap(b, dy), X = heap(b, x), M = heap(b, mean), R = heap(b, rstd), G = heap(b, gamma);
  const DX = heap(b, dx), DG = heap(b, dg), DB = heap(b, db);
  const accG = new Float64Array(C);
  const accB = new Float64Array(C);
  const xhat = new Float64Array(C);
  for (let n = 0, o = 0; n < N; n++, o += C) {
    const mu = M[n]!, r = R[n]!;
    let sg = 0, sgx = 0;
    for (let c = 0; c < C; c++) {
      const xh = (X[o + c]! - mu) * r;
      xhat[c] = xh;
      const d = DY[o + c]!;
      const g = d * G[c]!;
      sg += g;
      sgx += g * xh;
      accG[c] += d * xh;
      accB[c] += d;
    }
    const mg = sg / C, mgx = sgx / C;
    for (let c = 0; c < C; c++) DX[o + c] = r * (DY[o + c]! * G[c]! - mg - xhat[c]! * mgx);
  }
  DG.set(accG);
  DB.set(accB);
  return [dx, dg, db];
}

/** LayerNorm of the rows of x [N, C] (fused on wasm, else `layerNormOps`). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  if (!fusedKernelsActive('layerNorm')) return layerNormOps(x, gamma, beta, eps);
  const f = tf.customGrad(((xx: tf.Tensor2D, g: tf.Tensor, bt: tf.Tensor, save: SaveFn) => {
    const [y, mean, rstd] = tf.engine().runKernel(LN, { x: xx, gamma: g, beta: bt }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    save([xx, g, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return tf.engine().runKernel(LN_GRAD, { dy, x: sx!, mean: sm!, rstd: sr!, gamma: sg! }, {}) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, gamma, beta) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// GELU (exact): y = x·Φ(x), dy/dx = Φ(x) + x·φ(x)

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's nn.GELU default); the reference. */
export function geluOps<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
}

const LOG_INV_SQRT_2PI = -0.5 * Math.log(2 * Math.PI);

/**
 * Exact GELU with a hand-written gradient (wasm ops, no JS loop): forward keeps Φ(x), backward is
 * dy·(Φ(x) + x·φ(x)) with φ(x) = exp(−x²/2 − ln√(2π)): 7 ops instead of autograd's ~11 through erf.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (!fusedKernelsActive('gelu')) return geluOps(x);
  const f = tf.customGrad(((xx: tf.Tensor, save: SaveFn) => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(xx, Math.SQRT1_2)), 1), 0.5); // Φ(x)
    save([xx, cdf]);
    return {
      value: tf.mul(xx, cdf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sc] = saved as [tf.Tensor, tf.Tensor];
        const pdf = tf.exp(tf.add(tf.mul(tf.square(sx), -0.5), LOG_INV_SQRT_2PI)); // φ(x)
        return [tf.mul(dy, tf.add(sc, tf.mul(sx, pdf)))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

// ---------------------------------------------------------------------------------------------
// Dense: x [N, K] · W [K, M] + b [M]

/** x·W + b with plain ops (the reference). */
export function denseOps(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, kernel), bias);
}

/**
 * x·W + b: on wasm one _FusedMatMul (XNNPACK adds the bias) forward, and backward dx = dy·Wᵀ,
 * dW = xᵀ·dy (matmuls) and db = the column sum of dy (one JS pass instead of wasm's Sum over axis 0).
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (!fusedKernelsActive('dense')) return denseOps(x, kernel, bias);
  const f = tf.customGrad(((xx: tf.Tensor2D, w: tf.Tensor2D, bb: tf.Tensor1D, save: SaveFn) => {
    save([xx, w]);
    return {
      value: tf.fused.matMul({ a: xx, b: w, bias: bb }),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, sw, false, true), tf.matMul(sx, dy, true, false), columnSum(dy)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, kernel, bias) as tf.Tensor2D;
}
