// SourceSlots (src/infer/source-slots.ts): a write fills only free slots (growing C by doubling and S
// by padding), a free only marks the slot, a view returns the given slots' rows in order (padding:
// zero memory/keys, bias −1e9, <pad> ids), and no tensor outlives `clear`.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { SourceSlots, type SourceRows } from '../../src/infer/source-slots.ts';

await initBackend('wasm');

/** J rows of width S whose every memory/keys value is `base + row` and ids are `base + row + 1`. */
function rows(J: number, S: number, base: number): SourceRows {
  const fill = (d: number) => tf.tensor3d(Array.from({ length: J * S * d }, (_, i) => base + Math.floor(i / (S * d))), [J, S, d]);
  return {
    memory: fill(4) as tf.Tensor3D,
    keys: fill(2) as tf.Tensor3D,
    bias: tf.zeros([J, S]) as tf.Tensor2D,
    sourceIds: Int32Array.from({ length: J * S }, (_, i) => base + Math.floor(i / S) + 1),
  };
}
const free = (r: SourceRows) => tf.dispose([r.memory, r.keys, r.bias]);

t.test('write, free, view, grow', async (t) => {
  const baseline = tf.memory().numTensors;
  const slots = new SourceSlots();
  const a = rows(3, 2, 10);
  t.same(slots.write(a), [0, 1, 2], 'first write: slots 0…J−1');
  t.equal(slots.capacity, 4, 'C = J rounded up to a power of two');
  free(a);
  slots.free(1);
  const b = rows(3, 4, 20); // wider: S grows to 4; needs 3 slots, 2 free (1, 3) → C doubles
  t.same(slots.write(b), [1, 3, 4]);
  t.equal(slots.capacity, 8);
  t.equal(slots.sourceWidth, 4);
  free(b);

  const v = slots.view([4, 0, 2]);
  t.same(v.memory.shape, [3, 4, 4]);
  const mem = (await v.memory.array()) as number[][][];
  t.same(mem.map((r) => r.map((p) => p[0])), [[22, 22, 22, 22], [10, 10, 0, 0], [12, 12, 0, 0]], 'rows in view order; narrower rows padded with 0');
  t.same(await v.bias.array(), [[0, 0, 0, 0], [0, 0, -1e9, -1e9], [0, 0, -1e9, -1e9]], 'padding bias −1e9');
  t.same(Array.from(v.sourceIds), [23, 23, 23, 23, 11, 11, 0, 0, 13, 13, 0, 0], '<pad> ids past each source');

  const whole = slots.view([0, 1, 2, 3, 4, 5, 6, 7]);
  t.same(whole.keys.shape, [8, 4, 2], 'every slot in order: the buffer itself');
  slots.clear();
  t.equal(tf.memory().numTensors, baseline, 'no tensor left after clear');
});
