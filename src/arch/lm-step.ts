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
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import type { RecurrentKind } from './lm.ts';
import { cellStep, disposeCellExtras, prepareCell, type CellWeights } from './cell-step.ts';

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
  private readonly layers: CellWeights[];
  private readonly outKernel: tf.Tensor2D;
  private readonly outBias: tf.Tensor1D;

  /**
   * Copies the weights out of a trained LayersModel built by buildLanguageModel; the model may be
   * disposed after. Throws (leaving no tensors behind) when a layer is missing.
   */
  constructor(model: tf.LayersModel, kind: RecurrentKind) {
    this.kind = kind;
    const layerNames = new Set(model.layers.map((l) => l.name));
    const copy = (name: string) => {
      if (!layerNames.has(name)) throw new Error(`model has no layer "${name}" (expected a ${kind} language model)`);
      return model.getLayer(name).getWeights().map((w) => w.clone());
    };
    // tidy: the copies returned are kept, and all of them are freed if a layer turns out missing.
    const weights = tf.tidy(() => {
      const layers: CellWeights[] = [];
      for (let i = 0; i === 0 || layerNames.has(`${kind}_${i}`); i++) {
        const [kernel, recurrent, bias] = copy(`${kind}_${i}`) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        layers.push(prepareCell(kind, kernel, recurrent, bias));
      }
      const [outKernel, outBias] = copy('logits') as [tf.Tensor2D, tf.Tensor1D];
      return { embeddings: copy('embedding')[0] as tf.Tensor2D, layers, outKernel, outBias } as unknown as tf.TensorContainer;
    }) as unknown as { embeddings: tf.Tensor2D; layers: CellWeights[]; outKernel: tf.Tensor2D; outBias: tf.Tensor1D };
    this.embeddings = weights.embeddings;
    this.layers = weights.layers;
    this.outKernel = weights.outKernel;
    this.outBias = weights.outBias;
    this.units = this.layers[0]!.recurrent.shape[0];
    this.vocabSize = this.outBias.shape[0];
  }

  /** Zero state for a batch of `batch` rows. */
  initialState(batch: number): RecurrentState {
    const zeros = () => this.layers.map(() => tf.keep(tf.zeros([batch, this.units])) as tf.Tensor2D);
    return { h: zeros(), c: this.kind === 'lstm' ? zeros() : [] };
  }

  /**
   * Runs `ids` (one sequence, length ≥ 1) from the zero state; returns the state after the last id
   * and its logits [1, V]. Only the last position is projected to the vocabulary, and the loop
   * yields to the event loop every `yieldEvery` ids so a long prompt cannot stall other requests.
   */
  async prefill(ids: readonly number[], yieldEvery = 64): Promise<{ state: RecurrentState; logits: tf.Tensor2D }> {
    if (ids.length === 0) throw new Error('prefill needs at least one id');
    let state = this.initialState(1);
    try {
      for (let i = 0; i < ids.length; i++) {
        const next = this.advance(Int32Array.of(ids[i]!), state);
        disposeState(state);
        state = next;
        if ((i + 1) % yieldEvery === 0) await yieldToEventLoop();
      }
      return { state, logits: this.logits(state) };
    } catch (err) {
      disposeState(state);
      throw err;
    }
  }

  /** One token for every row: ids [B] → logits [B, V] and the new state (input state untouched). */
  step(ids: Int32Array, state: RecurrentState): { state: RecurrentState; logits: tf.Tensor2D } {
    const next = this.advance(ids, state);
    return { state: next, logits: this.logits(next) };
  }

  /** Logits [B, V] from the top layer's h of a state. */
  logits(state: RecurrentState): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(state.h[state.h.length - 1]!, this.outKernel), this.outBias) as tf.Tensor2D);
  }

  /** Advances every row by one token without projecting to the vocabulary (input state untouched). */
  advance(ids: Int32Array, state: RecurrentState): RecurrentState {
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    tf.tidy(() => {
      let x = tf.gather(this.embeddings, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
      this.layers.forEach((w, i) => {
        const next = cellStep(w, x, state.h[i]!, state.c[i]);
        h.push(tf.keep(next.h));
        if (next.c) c.push(tf.keep(next.c));
        x = next.h;
      });
    });
    return { h, c };
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
    this.layers.forEach(disposeCellExtras);
    tf.dispose([this.embeddings, this.outKernel, this.outBias, ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])]);
  }
}

export function disposeState(state: RecurrentState): void {
  tf.dispose([...state.h, ...state.c]);
}
