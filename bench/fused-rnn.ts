/**
 * Hand-run measurement (not a test): training throughput of the reference char LM
 * Embedding(96→64) → LSTM(256, returnSequences) → Dense(96), softmax cross-entropy, Adam,
 * batch 32 × 64, with the fused layer (src/arch/fused-lstm.ts) vs tf.layers.lstm, in one process.
 * `fused-ops` is the fused layer with its per-step gate kernels switched off (src/arch/rnn-kernels.ts):
 * the tf-ops path every non-wasm backend runs. Entries may repeat (`--only std,fused,std,fused`); the
 * first one in a process also pays for JIT/heap warm-up, so interleave when comparing.
 *
 *   node --import tsx bench/fused-rnn.ts [--batches 4] [--backend wasm|cpu] [--arch lstm|gru] [--only std,fused,fused-ops,std,fused,fused-ops]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { FusedLSTM } from '../src/arch/fused-lstm.ts';
import { FusedGRU } from '../src/arch/fused-gru.ts';
import { setRnnKernels } from '../src/arch/rnn-kernels.ts';
import { arg } from './lib/args.ts';
import { B, E, T, V, timeTraining } from './lib/char-lm.ts';

const H = 256;

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
  return timeTraining(label, buildModel(fused), batches);
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
  const batches = Number(arg('batches', '4'));
  const only = arg('only', 'std,fused,std,fused').split(',');
  const info = await initBackend(backend);
  console.log(`backend ${info.name}, threads ${info.threads}, fixes ${info.fixes.join(',')}`);
  const results: ReturnType<typeof run>[] = [];
  for (const what of only) {
    if (what !== 'std' && what !== 'fused' && what !== 'fused-ops') throw new Error(`unknown --only entry ${what}`);
    setRnnKernels(what !== 'fused-ops');
    results.push(run(what, what !== 'std', batches));
    console.log(JSON.stringify(results[results.length - 1]));
  }
  console.table(results);
  const best = (l: string) => Math.max(...results.filter((r) => r.label === l).map((r) => r.tokensPerSec));
  if (only.includes('std') && only.includes('fused')) console.log(`fused / std (best of each): ${(best('fused') / best('std')).toFixed(2)}×`);
  if (only.includes('fused-ops') && only.includes('fused')) console.log(`fused (step kernels) / fused-ops (best of each): ${(best('fused') / best('fused-ops')).toFixed(2)}×`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
