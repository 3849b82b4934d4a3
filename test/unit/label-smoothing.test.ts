// sequenceCrossEntropy with label smoothing ε: (1 − ε)·NLL(target) + ε·mean over the vocabulary of −log p,
// pads still masked out; ε = 0 is the plain loss.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { sequenceCrossEntropy } from '../../src/arch/lm.ts';

await initBackend('wasm');

t.test('label smoothing', async (t) => {
  const before = tf.memory().numTensors;
  const logits = tf.tensor3d([[[2, 0, -1], [0.5, 0.5, 3]]]); // [1, 2, 3]
  const targets = tf.tensor2d([[0, 2]], [1, 2], 'int32');
  const lp = tf.tidy(() => tf.logSoftmax(logits).arraySync()) as number[][][];
  const nll = -(lp[0]![0]![0]! + lp[0]![1]![2]!) / 2;
  const uni = -(lp[0]![0]!.reduce((a, b) => a + b) / 3 + lp[0]![1]!.reduce((a, b) => a + b) / 3) / 2;
  const at = (eps: number) => {
    const l = sequenceCrossEntropy(logits, targets, -1, eps);
    const v = l.dataSync()[0]!;
    l.dispose();
    return v;
  };
  t.ok(Math.abs(at(0) - nll) < 1e-5, 'ε = 0: plain cross-entropy');
  t.ok(Math.abs(at(0.1) - (0.9 * nll + 0.1 * uni)) < 1e-5, 'ε = 0.1: the smoothed mixture');
  const masked = tf.tensor2d([[0, 1]], [1, 2], 'int32');
  const l = sequenceCrossEntropy(logits, masked, 1, 0.1);
  t.ok(Math.abs(l.dataSync()[0]! - (0.9 * -lp[0]![0]![0]! + 0.1 * -(lp[0]![0]!.reduce((a, b) => a + b) / 3))) < 1e-5, 'padding positions stay out of the mean');
  l.dispose();
  tf.dispose([logits, targets, masked]);
  t.equal(tf.memory().numTensors, before);
});
