/**
 * The encoded sources of a Seq2Seq batch, kept in fixed slots (seq2seq-batcher.ts is the one user):
 *   memory [C, S, M], keys [C, S, H], attention bias [C, S] and source ids [C·S] (row-major)
 * for C slots of width S. A request's encoding is written once, into its own slot, when it joins;
 * leaving only marks the slot free. No other request's rows are re-padded or re-stacked.
 *
 * Contracts:
 *   - Rows narrower than S are padded with zero memory and keys, bias −1e9 and <pad> (0) ids, so a
 *     pad gets attention weight exactly 0 (the request's output does not depend on S).
 *   - C starts at the first write's row count rounded up to a power of two and doubles when a write
 *     needs more free slots; S grows (the buffer is padded once) when a wider source arrives. Both
 *     only grow until `clear`.
 *   - A write costs one op per tensor (tensorScatterUpdate into the buffer; plus one pad per tensor
 *     when C or S grows); a free costs nothing. Free slots' rows keep stale values: they are never
 *     read, because the decoder steps over `view(activeSlots)` only.
 *   - `view` returns tensors owned by this object, valid until the next `write`, `view` or `clear`.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSource } from '../arch/seq2seq.ts';

/** The part of an encoding the decoder's attention reads (rows in slot or view order). */
export type SourceRows = Pick<EncodedSource, 'memory' | 'keys' | 'bias' | 'sourceIds'>;

/** Attention bias at padding: exp(−1e9 − max) underflows to exactly 0. */
const PAD_BIAS = -1e9;

export class SourceSlots {
  private buffer: { memory: tf.Tensor3D; keys: tf.Tensor3D; bias: tf.Tensor2D } | undefined;
  /** [C·S] source ids, <pad> past each slot's source. */
  private ids: Int32Array = new Int32Array(0);
  private used: boolean[] = [];
  private width = 0;
  /** A gathered view (its own tensors), or undefined when the last view was the buffer itself. */
  private gathered: SourceRows | undefined;

  /** C: slots in the buffer (used or free). */
  get capacity(): number {
    return this.used.length;
  }

  /** S: the buffer's source width. */
  get sourceWidth(): number {
    return this.width;
  }

  /**
   * Writes the J rows of `rows` (memory [J, Sj, M], keys [J, Sj, H], bias [J, Sj], sourceIds [J·Sj])
   * into J free slots and returns them (row j → slot[j]). Does not take ownership of `rows`.
   */
  write(rows: SourceRows): number[] {
    this.dropView();
    const J = rows.memory.shape[0];
    const Sj = rows.memory.shape[1];
    const free = this.used.flatMap((u, s) => (u ? [] : [s]));
    let C = Math.max(this.capacity, 1);
    while (C - this.capacity + free.length < J) C *= 2;
    const slots = [...free, ...Array.from({ length: C - this.capacity }, (_, k) => this.capacity + k)].slice(0, J);
    const S = Math.max(this.width, Sj);
    const fresh = tf.tidy(() => {
      const padRows = (t: tf.Tensor, toRows: number, toWidth: number, value: number) => {
        const [r, w] = t.shape as [number, number];
        if (r === toRows && w === toWidth) return t.clone(); // shares the data (wasm-fixes: Identity)
        const spec: Array<[number, number]> = [[0, toRows - r], [0, toWidth - w], ...(t.rank === 3 ? [[0, 0] as [number, number]] : [])];
        return tf.pad(t, spec, value);
      };
      const memory = padRows(rows.memory, J, S, 0);
      const keys = padRows(rows.keys, J, S, 0);
      const bias = padRows(rows.bias, J, S, PAD_BIAS);
      if (!this.buffer) {
        // First write: the buffer is the joiners' rows (plus dead rows up to C), one pad per tensor.
        return { memory: padRows(memory, C, S, 0), keys: padRows(keys, C, S, 0), bias: padRows(bias, C, S, PAD_BIAS) };
      }
      const grown = {
        memory: padRows(this.buffer.memory, C, S, 0),
        keys: padRows(this.buffer.keys, C, S, 0),
        bias: padRows(this.buffer.bias, C, S, PAD_BIAS),
      };
      const at = tf.tensor2d(slots, [J, 1], 'int32');
      return {
        memory: tf.tensorScatterUpdate(grown.memory, at, memory),
        keys: tf.tensorScatterUpdate(grown.keys, at, keys),
        bias: tf.tensorScatterUpdate(grown.bias, at, bias),
      };
    }) as { memory: tf.Tensor3D; keys: tf.Tensor3D; bias: tf.Tensor2D };
    if (this.buffer) tf.dispose([this.buffer.memory, this.buffer.keys, this.buffer.bias]);
    this.buffer = fresh;
    this.ids = this.relaid(C, S);
    this.width = S;
    while (this.used.length < C) this.used.push(false);
    slots.forEach((slot, j) => {
      this.used[slot] = true;
      this.ids.fill(0, slot * S, (slot + 1) * S);
      this.ids.set(rows.sourceIds.subarray(j * Sj, (j + 1) * Sj), slot * S);
    });
    return slots;
  }

  /** Marks `slot` free: its rows are no longer read and the next write may reuse it. */
  free(slot: number): void {
    this.used[slot] = false;
  }

  /**
   * The rows of `slots` (used slots, each once) in that order: memory [A, S, M], keys [A, S, H],
   * bias [A, S], sourceIds [A·S]. The buffer itself when `slots` is 0…C−1 in order (no copy); else
   * one gather per tensor (rows copied as whole runs on wasm: backend/wasm-gather-kernel.ts; measured
   * cheaper than a slice per run of consecutive slots plus a concat, bench/README.md).
   */
  view(slots: readonly number[]): SourceRows {
    if (!this.buffer) throw new Error('SourceSlots.view: nothing written');
    this.dropView();
    const S = this.width;
    const sourceIds = new Int32Array(slots.length * S);
    slots.forEach((slot, r) => sourceIds.set(this.ids.subarray(slot * S, (slot + 1) * S), r * S));
    if (slots.length === this.capacity && slots.every((s, r) => s === r)) return { ...this.buffer, sourceIds };
    const b = this.buffer;
    const rows = tf.tidy(() => {
      const at = tf.tensor1d(Int32Array.from(slots), 'int32');
      return { memory: tf.gather(b.memory, at) as tf.Tensor3D, keys: tf.gather(b.keys, at) as tf.Tensor3D, bias: tf.gather(b.bias, at) as tf.Tensor2D };
    });
    this.gathered = { ...rows, sourceIds };
    return this.gathered;
  }

  /** Frees every tensor; the next write starts a new buffer. */
  clear(): void {
    this.dropView();
    if (this.buffer) tf.dispose([this.buffer.memory, this.buffer.keys, this.buffer.bias]);
    this.buffer = undefined;
    this.ids = new Int32Array(0);
    this.used = [];
    this.width = 0;
  }

  private dropView(): void {
    if (this.gathered) tf.dispose([this.gathered.memory, this.gathered.keys, this.gathered.bias]);
    this.gathered = undefined;
  }

  /** The ids laid out for C slots of width S (existing slots keep their ids, pads 0). */
  private relaid(C: number, S: number): Int32Array {
    if (C === this.capacity && S === this.width) return this.ids;
    const out = new Int32Array(C * S);
    for (let slot = 0; slot < this.capacity; slot++) out.set(this.ids.subarray(slot * this.width, (slot + 1) * this.width), slot * S);
    return out;
  }
}

