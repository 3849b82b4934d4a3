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
import { cellStep, cellStepProjected, disposeCellExtras, prepareCell, projectInput, type CellWeights } from './cell-step.ts';

/** One tensor per layer for h, and for LSTM one more for c. */
export interface RecurrentState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

/** Largest first-layer input table kept (floats; 4M = 16 MB): a char or subword vocabulary fits, a big word vocabulary does not. */
export const INPUT_TABLE_MAX_FLOATS = 4 * 1024 * 1024;

export class RecurrentLanguageModel {
  readonly kind: RecurrentKind;
  readonly units: number;
  readonly vocabSize: number;
  private readonly embeddings: tf.Tensor2D;
  private readonly layers: CellWeights[];
  private readonly outKernel: tf.Tensor2D;
  private readonly outBias: tf.Tensor1D;
  /**
   * embeddings·kernel₀ + bias₀ [V, G·H]: the first layer's input projection of every vocabulary id,
   * so a step gathers its row instead of gathering an embedding and projecting it (two ops fewer per
   * token). Null when it would exceed INPUT_TABLE_MAX_FLOATS (large word vocabularies).
   */
  private readonly inputTable: tf.Tensor2D | null;

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
    const first = this.layers[0]!;
    this.inputTable = this.embeddings.shape[0] * first.kernel.shape[1] <= INPUT_TABLE_MAX_FLOATS ? tf.tidy(() => projectInput(first, this.embeddings)) : null;
  }

  /** x·kernel₀ + bias₀ [N, G·H] for token ids [N] (time-major rows in a prefill). */
  private firstProjection(idx: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => (this.inputTable ? tf.gather(this.inputTable, idx) : projectInput(this.layers[0]!, tf.gather(this.embeddings, idx))) as tf.Tensor2D);
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

  /**
   * The state after feeding each row of `rows` (equal lengths ≥ 1; a batch of B sequences) from
   * `from` ([B, H] rows, not disposed) or the zero state, computed with the fused sequence ops: per layer, the input projection of all
   * positions of all rows is ONE matmul and the recurrence runs inside one op — far fewer kernel
   * launches than a step per id. Long inputs go in chunks of `chunk` ids (the state carried across),
   * yielding to the event loop between chunks so a long prompt cannot stall other requests.
   * Same math as `advance` (equal to float rounding).
   */
  async prefillRows(rows: readonly (readonly number[])[], chunk = 64, from?: RecurrentState): Promise<RecurrentState> {
    const len = rows[0]?.length ?? 0;
    if (len === 0 || rows.some((r) => r.length !== len)) throw new Error('prefillRows needs rows of one length ≥ 1');
    if (from && from.h[0]!.shape[0] !== rows.length) throw new Error('prefillRows: `from` must have one row per input row');
    let state: RecurrentState | undefined;
    try {
      for (let start = 0; start < len; start += chunk) {
        const next = this.runChunk(rows.map((r) => r.slice(start, start + chunk)), state ?? from);
        if (state) disposeState(state);
        state = next;
        if (start + chunk < len) await yieldToEventLoop();
      }
      return state!;
    } catch (err) {
      if (state) disposeState(state);
      throw err;
    }
  }

  /**
   * rows [B][T] → the state after them, from `from` (or zeros). Per layer the input projection of all
   * B·T positions is one matmul; the recurrence then runs step by step (h·U and the gate math), each
   * step in its own tidy so memory stays at one step's intermediates plus the layer's outputs.
   */
  private runChunk(rows: readonly (readonly number[])[], from: RecurrentState | undefined): RecurrentState {
    const B = rows.length;
    const T = rows[0]!.length;
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    const idx = tf.tensor1d(Int32Array.from({ length: B * T }, (_, k) => rows[k % B]![Math.floor(k / B)]!), 'int32');
    let x: tf.Tensor2D | null = null; // the layer's input, time-major [T·B, ·] (null for the first layer)
    const xw0 = this.firstProjection(idx);
    idx.dispose();
    try {
      this.layers.forEach((w, i) => {
        const last = i === this.layers.length - 1;
        const xw = x === null ? xw0 : tf.tidy(() => projectInput(w, x!)); // [T·B, G·H]
        x?.dispose();
        const h0: tf.Tensor2D = from ? from.h[i]!.clone() : tf.zeros([B, this.units]);
        let hPrev = h0;
        let cPrev: tf.Tensor2D | undefined = w.kind === 'lstm' ? (from ? from.c[i]!.clone() : tf.zeros([B, this.units])) : undefined;
        const outputs: tf.Tensor2D[] = []; // h at every step: the next layer's input (owned here)
        for (let t = 0; t < T; t++) {
          const next = tf.tidy(() => cellStepProjected(w, xw, hPrev, cPrev, t));
          if (last && hPrev !== h0) hPrev.dispose();
          cPrev?.dispose();
          if (!last) outputs.push(next.h);
          hPrev = next.h;
          cPrev = next.c;
        }
        h0.dispose();
        xw.dispose();
        h.push(last ? hPrev : hPrev.clone());
        if (cPrev) c.push(cPrev);
        x = last ? null : (tf.concat(outputs, 0) as tf.Tensor2D);
        tf.dispose(outputs);
      });
      return { h, c };
    } catch (err) {
      tf.dispose([x ?? [], ...h, ...c]);
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
    return tf.fused.matMul({ a: state.h[state.h.length - 1]!, b: this.outKernel, bias: this.outBias }) as tf.Tensor2D;
  }

  /** Advances every row by one token without projecting to the vocabulary (input state untouched). */
  advance(ids: Int32Array, state: RecurrentState): RecurrentState {
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    tf.tidy(() => {
      let x: tf.Tensor2D | null = null; // the layer's input (null: the first layer reads its projection)
      const xw0 = this.firstProjection(tf.tensor1d(ids, 'int32'));
      this.layers.forEach((w, i) => {
        const next = x === null ? cellStepProjected(w, xw0, state.h[i]!, state.c[i]) : cellStep(w, x, state.h[i]!, state.c[i]);
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
    tf.dispose([this.embeddings, this.outKernel, this.outBias, this.inputTable ?? [], ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])]);
  }
}

export function disposeState(state: RecurrentState): void {
  tf.dispose([...state.h, ...state.c]);
}
