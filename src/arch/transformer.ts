/**
 * Decoder-only Transformer language model (GPT-2 style, as nanoGPT's `model.py`):
 *
 *   x₀ = wte[ids] + wpe[positions]                        token + learned position embeddings
 *   per block i:  x += Proj(CausalSelfAttention(LN₁(x)))   pre-LayerNorm, H heads of width D = C/H
 *                 x += Proj(GELU(FC(LN₂(x))))              MLP 4C wide, exact (erf) GELU
 *   logits = LN_f(x) · wteᵀ                                output layer tied to the input embedding
 *
 * Weights live in a WeightSet (names `wte`, `wpe`, `h_<i>/ln_1/gamma`, `h_<i>/attn/c_attn/kernel`
 * [C, 3C] (q | k | v), `h_<i>/attn/c_proj/kernel` [C, C], `h_<i>/mlp/c_fc/kernel` [C, 4C],
 * `h_<i>/mlp/c_proj/kernel` [4C, C], biases, `ln_f/…`), initialised as GPT-2: N(0, 0.02) for
 * embeddings and kernels, N(0, 0.02/√(2L)) for the two residual projections, zero biases, LN γ = 1.
 *
 * Written from plain tf ops whose gradients work on the wasm backend: every matmul is 2-D or a
 * batched 3-D matmul with equal batch sizes (broadcast matmul gradients come out with the wrong
 * shape), masks are a large finite negative bias (−1e9; −Infinity gives NaN on a fully masked row),
 * no stridedSlice / scatter (no gradients).
 *
 * Serving uses a KV cache (`KvState`): `extend` runs a prompt (or a chat turn's new ids after a kept
 * cache) in ONE pass and returns the keys and values of every position; `step` then advances every
 * row of a batch by one position against the cached K/V. Rows of different lengths share a batch:
 * each row's entries are right-aligned (left-padded with zero columns that its attention bias
 * masks), and its own position ids index wpe, so a row computes what it would compute alone.
 */
import * as tf from '@tensorflow/tfjs';
import { WeightSet } from './weight-set.ts';
import { dense, gelu, layerNorm } from './transformer-kernels.ts';

export interface TransformerSpec {
  vocabSize: number;
  layers: number;
  heads: number;
  /** Model width C (embedding and residual stream); a multiple of `heads`. */
  embeddingDim: number;
  /** Positions the model has embeddings for: the longest sequence it can read or generate. */
  contextLength: number;
}

/** Added to masked attention scores (finite: a fully masked row stays a number). */
export const MASK_BIAS = -1e9;
export const LN_EPS = 1e-5;
const INIT_STD = 0.02;

/**
 * The cached keys and values of a batch of rows: per layer K and V [B, H, T, D]. Row r covers
 * `lengths[r]` positions, stored in the LAST lengths[r] columns (columns before are zero padding,
 * masked). T = max(1, max(lengths)) after every operation (a row of length 0 has one masked column).
 */
export interface KvState {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
  lengths: number[];
}

export interface ForwardOptions {
  /** Dropout rate on embeddings, attention weights and residual branches (training only); 0 = off. */
  dropout?: number;
  /** Seed of this forward pass's dropout masks (vary it per step). */
  seed?: number;
}

export class TransformerLM {
  readonly ws: WeightSet;
  readonly headDim: number;

  constructor(
    readonly spec: TransformerSpec,
    seed: number,
  ) {
    const { vocabSize: V, layers: L, heads: H, embeddingDim: C, contextLength: N } = spec;
    if (!(H >= 1 && C % H === 0)) throw new Error(`transformer: heads (${H}) must divide embedding_dim (${C})`);
    if (!(L >= 1 && N >= 1 && V >= 1)) throw new Error('transformer: layers, context_length and vocabulary must be ≥ 1');
    this.headDim = C / H;
    this.ws = new WeightSet(seed);
    const std = { normal: INIT_STD };
    const residualStd = { normal: INIT_STD / Math.sqrt(2 * L) };
    this.ws.add('wte', [V, C], std);
    this.ws.add('wpe', [N, C], std);
    for (let i = 0; i < L; i++) {
      const p = `h_${i}`;
      this.ws.add(`${p}/ln_1/gamma`, [C], 'ones');
      this.ws.add(`${p}/ln_1/beta`, [C], 'zeros');
      this.ws.add(`${p}/attn/c_attn/kernel`, [C, 3 * C], std);
      this.ws.add(`${p}/attn/c_attn/bias`, [3 * C], 'zeros');
      this.ws.add(`${p}/attn/c_proj/kernel`, [C, C], residualStd);
      this.ws.add(`${p}/attn/c_proj/bias`, [C], 'zeros');
      this.ws.add(`${p}/ln_2/gamma`, [C], 'ones');
      this.ws.add(`${p}/ln_2/beta`, [C], 'zeros');
      this.ws.add(`${p}/mlp/c_fc/kernel`, [C, 4 * C], std);
      this.ws.add(`${p}/mlp/c_fc/bias`, [4 * C], 'zeros');
      this.ws.add(`${p}/mlp/c_proj/kernel`, [4 * C, C], residualStd);
      this.ws.add(`${p}/mlp/c_proj/bias`, [C], 'zeros');
    }
    this.ws.add('ln_f/gamma', [C], 'ones');
    this.ws.add('ln_f/beta', [C], 'zeros');
  }

  get vocabSize(): number {
    return this.spec.vocabSize;
  }

  get contextLength(): number {
    return this.spec.contextLength;
  }

  /** The trainable weights in creation order (the training loop's and the checkpoint's order). */
  getWeights(): tf.Tensor[] {
    return this.ws.variables();
  }

  /** Copies `weights` (getWeights() order) into the model; the caller keeps them. */
  setWeights(weights: readonly tf.Tensor[]): void {
    this.ws.assignOrdered(weights);
  }

  /**
   * Training / scoring forward pass: ids [B, T] int32 (T ≤ context_length) → logits [B, T, V].
   * Position t attends to positions ≤ t of its own row.
   */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    if (T > this.spec.contextLength) throw new Error(`transformer: ${T} positions exceed context_length ${this.spec.contextLength}`);
    return tf.tidy(() => {
      const drop = dropper(opts);
      const tok = tf.gather(this.w('wte'), tf.reshape(ids, [-1])) as tf.Tensor2D; // [B·T, C]
      const pos = tf.slice(this.w('wpe'), [0, 0], [T, this.spec.embeddingDim]); // [T, C]
      // [B, T, C] + [T, C] broadcast (wasm's Tile is slow; the add's gradient sums over B)
      const C = this.spec.embeddingDim;
      let x = drop(B === 1 ? tf.add(tok, pos) : tf.reshape(tf.add(tf.reshape(tok, [B, T, C]), pos), [B * T, C])) as tf.Tensor2D;
      const bias = tf.reshape(causalBias(T), [1, 1, T, T]) as tf.Tensor4D;
      for (let i = 0; i < this.spec.layers; i++) x = this.block(i, x, B, T, bias, undefined, drop).x;
      return tf.reshape(this.logits(x), [B, T, this.spec.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * Feeds `ids` (≥ 1) to ONE row in a single pass, after the row's kept cache `from` (one row, not
   * disposed) or from the start: returns the row's cache covering everything fed and the logits
   * [1, V] after the last id. Used for prompt prefill and for a chat turn's new tokens.
   */
  extend(ids: readonly number[], from?: KvState): { state: KvState; logits: tf.Tensor2D } {
    const n = ids.length;
    if (n === 0) throw new Error('extend needs at least one id');
    if (from && from.lengths.length !== 1) throw new Error('extend: `from` must be one row');
    const past = from?.lengths[0] ?? 0;
    if (past + n > this.spec.contextLength) throw new Error(`transformer: ${past + n} positions exceed context_length ${this.spec.contextLength}`);
    const T0 = from ? from.k[0]!.shape[2] : 0;
    const k: tf.Tensor4D[] = [];
    const v: tf.Tensor4D[] = [];
    const logits = tf.tidy(() => {
      const tok = tf.gather(this.w('wte'), tf.tensor1d(Int32Array.from(ids), 'int32')) as tf.Tensor2D;
      let x = tf.add(tok, tf.slice(this.w('wpe'), [past, 0], [n, this.spec.embeddingDim])) as tf.Tensor2D;
      // Query j sees the row's real cached columns (the last `past` of T0) and new positions ≤ j.
      const Tk = T0 + n;
      const bias = new Float32Array(n * Tk);
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < Tk; c++) {
          const ok = c < T0 ? c >= T0 - past : c - T0 <= j;
          bias[j * Tk + c] = ok ? 0 : MASK_BIAS;
        }
      }
      const biasT = tf.tensor4d(bias, [1, 1, n, Tk]);
      for (let i = 0; i < this.spec.layers; i++) {
        const r = this.block(i, x, 1, n, biasT, from ? { k: from.k[i]!, v: from.v[i]! } : undefined, identity);
        x = r.x;
        k.push(tf.keep(r.k));
        v.push(tf.keep(r.v));
      }
      return this.logits(tf.slice(x, [n - 1, 0], [1, this.spec.embeddingDim]) as tf.Tensor2D);
    });
    return { state: trimKv({ k, v, lengths: [past + n] }), logits };
  }

  /**
   * One position for every row: ids [B] (row r's id goes at position state.lengths[r]) → logits
   * [B, V] and the new cache (the input state is not disposed). Every row must have room left
   * (length < context_length).
   */
  step(ids: Int32Array, state: KvState): { state: KvState; logits: tf.Tensor2D } {
    const B = ids.length;
    if (state.lengths.length !== B) throw new Error(`step: ${B} ids for ${state.lengths.length} rows`);
    const full = state.lengths.findIndex((l) => l >= this.spec.contextLength);
    if (full >= 0) throw new Error(`step: row ${full} is at context_length ${this.spec.contextLength}`);
    const T = state.k[0]!.shape[2];
    const Tk = T + 1;
    const k: tf.Tensor4D[] = [];
    const v: tf.Tensor4D[] = [];
    const logits = tf.tidy(() => {
      const tok = tf.gather(this.w('wte'), tf.tensor1d(ids, 'int32'));
      const pos = tf.gather(this.w('wpe'), tf.tensor1d(Int32Array.from(state.lengths), 'int32'));
      let x = tf.add(tok, pos) as tf.Tensor2D;
      // Row r attends to its last lengths[r] + 1 columns (cache + the new position).
      const bias = new Float32Array(B * Tk);
      state.lengths.forEach((len, r) => bias.fill(MASK_BIAS, r * Tk, r * Tk + Tk - (len + 1)));
      const biasT = tf.tensor4d(bias, [B, 1, 1, Tk]);
      for (let i = 0; i < this.spec.layers; i++) {
        const r = this.block(i, x, B, 1, biasT, { k: state.k[i]!, v: state.v[i]! }, identity);
        x = r.x;
        k.push(tf.keep(r.k));
        v.push(tf.keep(r.v));
      }
      return this.logits(x);
    });
    return { state: trimKv({ k, v, lengths: state.lengths.map((l) => l + 1) }), logits };
  }

  /** Logits [N, V] of final-block rows x [N, C]: LN_f, then the tied embedding transposed. */
  private logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(this.layerNorm(x, 'ln_f'), this.w('wte'), false, true);
  }

  /**
   * Block i on x [B·Tq, C] (row-major: b·Tq + t). Queries are the Tq new positions; keys/values are
   * `past` [B, H, Tp, D] (if any) followed by the new ones. bias [B or 1, 1, Tq, Tp + Tq] is added to
   * the scores. Returns the block output and this layer's full K, V [B, H, Tp + Tq, D].
   */
  private block(
    i: number, x: tf.Tensor2D, B: number, Tq: number, bias: tf.Tensor4D, past: { k: tf.Tensor4D; v: tf.Tensor4D } | undefined, drop: Drop,
  ): { x: tf.Tensor2D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const { heads: H, embeddingDim: C } = this.spec;
    const D = this.headDim;
    const p = `h_${i}`;
    const qkv = this.dense(this.layerNorm(x, `${p}/ln_1`), `${p}/attn/c_attn`); // [B·Tq, 3C]
    const [q, kNew, vNew] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const toHeads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, Tq, H, D]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, Tq, D]
    const k = past ? (tf.concat([past.k, toHeads(kNew)], 2) as tf.Tensor4D) : toHeads(kNew);
    const v = past ? (tf.concat([past.v, toHeads(vNew)], 2) as tf.Tensor4D) : toHeads(vNew);
    const Tk = k.shape[2];
    const q3 = tf.reshape(toHeads(q), [B * H, Tq, D]);
    const scores = tf.mul(tf.matMul(q3, tf.reshape(k, [B * H, Tk, D]), false, true), 1 / Math.sqrt(D)); // [B·H, Tq, Tk]
    const att = drop(tf.softmax(tf.add(tf.reshape(scores, [B, H, Tq, Tk]), bias)));
    const y = tf.matMul(tf.reshape(att, [B * H, Tq, Tk]), tf.reshape(v, [B * H, Tk, D])); // [B·H, Tq, D]
    const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, H, Tq, D]), [0, 2, 1, 3]), [B * Tq, C]) as tf.Tensor2D;
    let out = tf.add(x, drop(this.dense(merged, `${p}/attn/c_proj`))) as tf.Tensor2D;
    const hidden = gelu(this.dense(this.layerNorm(out, `${p}/ln_2`), `${p}/mlp/c_fc`));
    out = tf.add(out, drop(this.dense(hidden, `${p}/mlp/c_proj`))) as tf.Tensor2D;
    return { x: out, k, v };
  }

  /** LayerNorm of x [N, C] (fused kernels on wasm: transformer-kernels.ts). */
  private layerNorm(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return layerNorm(x, this.w(`${prefix}/gamma`), this.w(`${prefix}/beta`), LN_EPS);
  }

  /** x [N, K] · kernel [K, M] + bias [M] → [N, M]. */
  private dense(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return dense(x, this.w(`${prefix}/kernel`) as tf.Tensor2D, this.w(`${prefix}/bias`) as tf.Tensor1D);
  }

  private w(name: string): tf.Tensor {
    return this.ws.get(name);
  }

  dispose(): void {
    this.ws.dispose();
  }
}

type Drop = <T extends tf.Tensor>(x: T) => T;
const identity: Drop = (x) => x;

/** Dropout with a fresh seed per call (deterministic for a given options.seed), or identity. */
function dropper(opts: ForwardOptions): Drop {
  const rate = opts.dropout ?? 0;
  if (rate <= 0) return identity;
  let n = 0;
  const base = opts.seed ?? 0;
  return (x) => tf.dropout(x, rate, undefined, (base + 7919 * n++) >>> 0) as typeof x;
}

/** Exact GELU (PyTorch's nn.GELU default); transformer-kernels.ts. */
export { gelu };

/** [T, T]: 0 where column ≤ row, MASK_BIAS above the diagonal. */
export function causalBias(T: number): tf.Tensor2D {
  const data = new Float32Array(T * T);
  for (let r = 0; r < T; r++) data.fill(MASK_BIAS, r * T + r + 1, (r + 1) * T);
  return tf.tensor2d(data, [T, T]);
}

// ---------------------------------------------------------------------------------------------
// KV cache rows (the continuous batcher's and chat sessions' state operations)

/**
 * Drops the leading columns no row uses (keeps max(1, max(lengths)) columns). Takes ownership of
 * `s`'s tensors (returns `s` itself when nothing is trimmed).
 */
export function trimKv(s: KvState): KvState {
  const T = s.k[0]!.shape[2];
  const keep = Math.max(1, ...s.lengths);
  if (T <= keep) return s;
  const cut = (t: tf.Tensor4D) => {
    const out = tf.slice(t, [0, 0, T - keep, 0], [-1, -1, keep, -1]) as tf.Tensor4D;
    t.dispose();
    return out;
  };
  return { k: s.k.map(cut), v: s.v.map(cut), lengths: s.lengths };
}

/** Stacks row states (each left-padded to the longest); the inputs are not disposed. */
export function concatKv(states: readonly KvState[]): KvState {
  const T = Math.max(...states.map((s) => s.k[0]!.shape[2]));
  const layers = states[0]!.k.length;
  const stack = (get: (s: KvState) => tf.Tensor4D[]) =>
    Array.from({ length: layers }, (_, i) =>
      tf.tidy(() => tf.concat(states.map((s) => {
        const t = get(s)[i]!;
        const pad = T - t.shape[2];
        return pad > 0 ? tf.pad(t, [[0, 0], [0, 0], [pad, 0], [0, 0]]) : t;
      }), 0)) as tf.Tensor4D,
    );
  return { k: stack((s) => s.k), v: stack((s) => s.v), lengths: states.flatMap((s) => s.lengths) };
}

/** Rows `rows` of a state, as a new (trimmed) state; the input is not disposed. */
export function selectKv(s: KvState, rows: readonly number[]): KvState {
  const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
  const pick = (ts: tf.Tensor4D[]) => ts.map((t) => tf.gather(t, idx) as tf.Tensor4D);
  const out = { k: pick(s.k), v: pick(s.v), lengths: rows.map((r) => s.lengths[r]!) };
  idx.dispose();
  return trimKv(out);
}

/** A state of `rows` empty rows (one masked column each). */
export function emptyKv(spec: TransformerSpec, rows: number): KvState {
  const D = spec.embeddingDim / spec.heads;
  const zeros = () => Array.from({ length: spec.layers }, () => tf.zeros([rows, spec.heads, 1, D]) as tf.Tensor4D);
  return { k: zeros(), v: zeros(), lengths: new Array(rows).fill(0) };
}

export function disposeKv(s: KvState): void {
  tf.dispose([...s.k, ...s.v]);
}

export function kvBytes(s: KvState): number {
  return [...s.k, ...s.v].reduce((n, t) => n + t.size * 4, 0);
}
