/**
 * Entry of a gradient thread (started by grad-pool.ts; workerData = ThreadInit). Initialises the
 * backend as the main thread did, builds its replica, says 'ready', then for each StepRequest:
 * copies the shared weights in, computes the gradients of scale × (its shard's mean loss) for the
 * trainable variables in registration order, writes them into its gradient buffer, publishes the
 * generation, and answers 'done' with the scaled loss. Any error is answered 'failed' (the pool
 * fails the job); the thread holds no optimizer state.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend/select.ts';
import { layout, type StepRequest, type ThreadInit, type ThreadReply } from './grad-pool.ts';
import { buildWindowReplica } from './window-replica.ts';

const init = workerData as ThreadInit;
const port = parentPort!;
const reply = (m: ThreadReply) => port.postMessage(m);
const sameShapes = (a: number[][], b: number[][]) => a.length === b.length && a.every((s, i) => s.join(',') === b[i]!.join(','));

await initBackend(init.backend);
const replica = buildWindowReplica(init.recipe, init.shard);
const vars = replica.variables();
const weightShapes = replica.weights().map((w) => w.shape);
if (!sameShapes(weightShapes, init.weightShapes) || !sameShapes(vars.map((v) => v.shape), init.gradShapes)) {
  throw new Error(`replica does not match the main model: weights [${weightShapes.map((s) => `[${s}]`)}] vs [${init.weightShapes.map((s) => `[${s}]`)}]`);
}
const weights = new Float32Array(init.weights);
const grads = new Float32Array(init.grads);
const control = new Int32Array(init.control);
const w = layout(init.weightShapes);
const g = layout(init.gradShapes);

function step(req: StepRequest): number {
  if (Atomics.load(control, 0) !== req.generation) throw new Error(`weights are at generation ${Atomics.load(control, 0)}, step asks for ${req.generation}`);
  const current = init.weightShapes.map((shape, i) => tf.tensor(weights.slice(w.offsets[i]!, w.offsets[i]! + shape.reduce((a, b) => a * b, 1)), shape, 'float32'));
  try {
    replica.setWeights(current);
  } finally {
    tf.dispose(current);
  }
  const loss = tf.tidy(() => {
    const { value, grads: named } = tf.variableGrads(() => tf.mul(replica.loss(req.shard), req.scale) as tf.Scalar, vars);
    vars.forEach((v, i) => {
      const grad = named[v.name];
      const end = g.offsets[i]! + v.size;
      if (grad) grads.set(grad.dataSync() as Float32Array, g.offsets[i]!);
      else grads.fill(0, g.offsets[i]!, end);
    });
    return value;
  });
  const value = loss.dataSync()[0]!;
  loss.dispose();
  Atomics.store(control, 1, req.generation);
  return value;
}

port.on('message', (req: StepRequest) => {
  try {
    reply({ type: 'done', generation: req.generation, loss: step(req) });
  } catch (err) {
    reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
});
reply({ type: 'ready' });
