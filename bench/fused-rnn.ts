/**
 * Hand-run measurement (not a test): training throughput of the reference char LM
 * Embedding(96→64) → LSTM(256, returnSequences) → Dense(96), softmax cross-entropy, Adam,
 * batch 32 × 64, with the fused layer (src/arch/fused-lstm.ts) vs tf.layers.lstm, in one process.
 * Entries may repeat (`--only std,fused,std,fused`); the first one in a process also pays for
 * JIT/heap warm-up, so interleave when comparing.
 *
 *   node --import tsx bench/fused-rnn.ts [--batches 4] [--backend wasm|cpu] [--arch lstm|gru] [--only std,fused,std,fused]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { FusedLSTM } from '../src/arch/fused-lstm.ts';
import { FusedGRU } from '../src/arch/fused-gru.ts';

const V = 96, E = 64, H = 256, B = 32, T = 64;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

function buildModel(fused: boolean): tf.LayersModel {
  const common = { units: H, recurrentInitializer: 'glorotUniform' as const };
  const gru = arg('arch', 'lstm') === 'gru';
  const rnn = gru
    ? fused ? new FusedGRU(common) : tf.layers.gru({ ...common, returnSequences: true, recurrentActivation: 'sigmoid' })
    : fused ? new FusedLSTM(common) : tf.layers.lstm({ ...common, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true });
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }),
      rnn,
      tf.layers.dense({ units: V }),
    ],
  });
}

function run(label: string, fused: boolean, batches: number) {
  const model = buildModel(fused);
  const opt = tf.train.adam(2e-3);
  const rand = (n: number) => Int32Array.from({ length: n }, () => Math.floor(Math.random() * V));
  const x = tf.tensor2d(rand(B * T), [B, T], 'int32');
  const y = tf.tidy(() => tf.oneHot(tf.tensor2d(rand(B * T), [B, T], 'int32'), V));
  const step = () => {
    const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true);
    const v = l!.dataSync()[0]!;
    l!.dispose();
    return v;
  };
  step(); // warm-up: builds weights, Adam slots, XNNPACK operators
  const before = tf.memory().numTensors;
  let loss = 0;
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) loss = step();
  const ms = performance.now() - t0;
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  if (leaked !== 0) console.warn(`${label}: ${leaked} tensors leaked per ${batches} batches`);
  return { label, tokensPerSec: Math.round((batches * B * T) / (ms / 1000)), msPerBatch: Math.round(ms / batches), loss: +loss.toFixed(4) };
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
  const batches = Number(arg('batches', '4'));
  const only = arg('only', 'std,fused,std,fused').split(',');
  const info = await initBackend(backend);
  console.log(`backend ${info.name}, threads ${info.threads}, fixes ${info.fixes.join(',')}`);
  const results: ReturnType<typeof run>[] = [];
  for (const what of only) {
    if (what !== 'std' && what !== 'fused') throw new Error(`unknown --only entry ${what}`);
    results.push(run(what, what === 'fused', batches));
    console.log(JSON.stringify(results[results.length - 1]));
  }
  console.table(results);
  const best = (l: string) => Math.max(...results.filter((r) => r.label === l).map((r) => r.tokensPerSec));
  if (only.includes('std') && only.includes('fused')) console.log(`fused / std (best of each): ${(best('fused') / best('std')).toFixed(2)}×`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
