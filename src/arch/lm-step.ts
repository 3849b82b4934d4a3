/**
 * Stateful stepping of a trained recurrent language model (see lm.ts for the layout).
 *
 * `prefill(ids)` runs a prompt once and returns the state after it plus the logits for the next
 * token; `step(ids, state)` advances every row of a batch by one token. No window is ever re-run:
 * each generated token costs one cell step per layer. States are tensors owned by the caller, who
 * must `disposeState` a state once it is replaced (the step never disposes its input state, so a
 * caller may branch from it).
 *
 * Shapes: ids [B] int32; per layer h (and c for LSTM) [B, H]; logits [B, V] float32.
 */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentKind } from './lm.ts';

interface RecurrentWeights {
  kernel: tf.Tensor2D; // [in, G·H]
  recurrent: tf.Tensor2D; // [H, G·H]
  bias: tf.Tensor1D; // [G·H]
}

/** One tensor per layer for h, and for LSTM one more for c. */
export interface RecurrentState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export class RecurrentLanguageModel {
  readonly kind: RecurrentKind;
  readonly units: number;
  readonly vocabSize: number;
  private readonly embeddings: tf.Tensor2D;
  private readonly layers: RecurrentWeights[];
  private readonly outKernel: tf.Tensor2D;
  private readonly outBias: tf.Tensor1D;

  /** Copies the weights out of a trained LayersModel built by buildLanguageModel; the model may be disposed after. */
  constructor(model: tf.LayersModel, kind: RecurrentKind) {
    this.kind = kind;
    const byName = (n: string) => model.getLayer(n);
    this.embeddings = tf.keep(byName('embedding').getWeights()[0]!.clone()) as tf.Tensor2D;
    this.layers = [];
    for (let i = 0; ; i++) {
      let layer: tf.layers.Layer;
      try {
        layer = byName(`${kind}_${i}`);
      } catch {
        break;
      }
      const [kernel, recurrent, bias] = layer.getWeights().map((w) => tf.keep(w.clone()));
      this.layers.push({ kernel: kernel as tf.Tensor2D, recurrent: recurrent as tf.Tensor2D, bias: bias as tf.Tensor1D });
    }
    if (this.layers.length === 0) throw new Error(`model has no ${kind}_0 layer`);
    const [outKernel, outBias] = byName('logits').getWeights().map((w) => tf.keep(w.clone()));
    this.outKernel = outKernel as tf.Tensor2D;
    this.outBias = outBias as tf.Tensor1D;
    this.units = this.layers[0]!.recurrent.shape[0];
    this.vocabSize = this.outBias.shape[0];
  }

  /** Zero state for a batch of `batch` rows. */
  initialState(batch: number): RecurrentState {
    const zeros = () => this.layers.map(() => tf.keep(tf.zeros([batch, this.units])) as tf.Tensor2D);
    return { h: zeros(), c: this.kind === 'lstm' ? zeros() : [] };
  }

  /** Runs `ids` (one sequence, length ≥ 1) from the zero state; returns the state after the last id and its logits [1, V]. */
  prefill(ids: readonly number[]): { state: RecurrentState; logits: tf.Tensor2D } {
    if (ids.length === 0) throw new Error('prefill needs at least one id');
    let state = this.initialState(1);
    let logits: tf.Tensor2D | undefined;
    for (const id of ids) {
      logits?.dispose();
      const next = this.step(Int32Array.of(id), state);
      disposeState(state);
      state = next.state;
      logits = next.logits;
    }
    return { state, logits: logits! };
  }

  /** One token for every row: ids [B] → logits [B, V] and the new state (input state untouched). */
  step(ids: Int32Array, state: RecurrentState): { state: RecurrentState; logits: tf.Tensor2D } {
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    const logits = tf.tidy(() => {
      let x = tf.gather(this.embeddings, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
      this.layers.forEach((w, i) => {
        if (this.kind === 'lstm') {
          const z = tf.add(tf.add(tf.matMul(x, w.kernel), tf.matMul(state.h[i]!, w.recurrent)), w.bias);
          const [gi, gf, gc, go] = tf.split(z, 4, 1);
          const cNext = tf.add(tf.mul(tf.sigmoid(gf!), state.c[i]!), tf.mul(tf.sigmoid(gi!), tf.tanh(gc!))) as tf.Tensor2D;
          const hNext = tf.mul(tf.sigmoid(go!), tf.tanh(cNext)) as tf.Tensor2D;
          c.push(tf.keep(cNext));
          h.push(tf.keep(hNext));
          x = hNext;
        } else {
          // GRU with reset applied before the recurrent matmul (tf.js / Keras reset_after=false):
          // the candidate's recurrent term is (r ⊙ h)·U_h, so it cannot reuse h·U from z above.
          const xw = tf.add(tf.matMul(x, w.kernel), w.bias);
          const [xz, xr, xh] = tf.split(xw, 3, 1);
          const [uzr, uh] = tf.split(w.recurrent, [2 * this.units, this.units], 1);
          const [hz, hr] = tf.split(tf.matMul(state.h[i]!, uzr!), 2, 1);
          const zg = tf.sigmoid(tf.add(xz!, hz!));
          const rg = tf.sigmoid(tf.add(xr!, hr!));
          const cand = tf.tanh(tf.add(xh!, tf.matMul(tf.mul(rg, state.h[i]!), uh!)));
          const hNext = tf.add(tf.mul(zg, state.h[i]!), tf.mul(tf.sub(1, zg), cand)) as tf.Tensor2D;
          h.push(tf.keep(hNext));
          x = hNext;
        }
      });
      return tf.add(tf.matMul(x, this.outKernel), this.outBias) as tf.Tensor2D;
    });
    return { state: { h, c }, logits };
  }

  /** Rows `rows` of a batched state, as a new state (used when requests leave a batch). */
  static selectRows(state: RecurrentState, rows: readonly number[]): RecurrentState {
    const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
    const pick = (ts: tf.Tensor2D[]) => ts.map((t) => tf.keep(tf.gather(t, idx)) as tf.Tensor2D);
    const out = { h: pick(state.h), c: pick(state.c) };
    idx.dispose();
    return out;
  }

  /** Stacks single-row states into one batched state. */
  static concatRows(states: readonly RecurrentState[]): RecurrentState {
    const layers = states[0]!.h.length;
    const cat = (get: (s: RecurrentState) => tf.Tensor2D[]) =>
      Array.from({ length: layers }, (_, i) => tf.keep(tf.concat(states.map((s) => get(s)[i]!), 0)) as tf.Tensor2D);
    return { h: cat((s) => s.h), c: states[0]!.c.length > 0 ? cat((s) => s.c) : [] };
  }

  dispose(): void {
    tf.dispose([this.embeddings, this.outKernel, this.outBias, ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])]);
  }
}

export function disposeState(state: RecurrentState): void {
  tf.dispose([...state.h, ...state.c]);
}
