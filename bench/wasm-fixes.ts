/**
 * Hand-run measurement (not a test): training throughput of the reference char LM
 * Embedding(96→64) → LSTM(256, returnSequences) → Dense(96), softmax cross-entropy, Adam,
 * batch 32 × 64 steps, on wasm with all fixes ("wasm"), with the shipped Slice/Unpack/SplitV
 * ("wasm-noslice"), with the shipped matmul and slice kernels ("wasm-shipped"), and on cpu.
 * Entries may repeat (`--only wasm-noslice,wasm,wasm-noslice,wasm`); the first one in a process
 * also pays for JIT/heap warm-up, so interleave when comparing.
 *
 *   node --import tsx bench/wasm-fixes.ts [--batches 4] [--cpu-batches 2] [--only wasm,wasm-noslice,wasm-shipped,cpu]
 *   node --import tsx bench/wasm-fixes.ts --matmul     # per-call ms of the LSTM's matmul shapes
 *   node --import tsx bench/wasm-fixes.ts --slice      # per-call ms of its unstack/split shapes
 *
 * The UnsortedSegmentSum kernel stays registered for "wasm-shipped": without it the Embedding
 * gradient cannot run on wasm at all.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { setMatMulFixOptions } from '../src/backend/wasm-fixes.ts';
import { setSliceKernelOptions } from '../src/backend/wasm-slice-kernels.ts';
import { arg } from './lib/args.ts';
import { B, E, T, V, timeTraining, type TrainingTiming } from './lib/char-lm.ts';

const H = 256;

function buildModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }),
      // glorot instead of the default orthogonal: the QR it runs only slows down building.
      tf.layers.lstm({ units: H, returnSequences: true, recurrentInitializer: 'glorotUniform' }),
      tf.layers.dense({ units: V }),
    ],
  });
}

async function run(label: string, batches: number): Promise<TrainingTiming> {
  return timeTraining(label, buildModel(), batches);
}

/** ms per call of tf.matMul for the shapes an LSTM(256) step and its gradient use, shipped vs fixed. */
async function matmulTable(): Promise<void> {
  await initBackend('wasm');
  const time = (f: () => tf.Tensor, n: number) => {
    for (let i = 0; i < 3; i++) f().dispose();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f().dispose();
    return (performance.now() - t0) / n;
  };
  const rows = [];
  for (const [M, K, N] of [[32, 1024, 256], [32, 256, 1024], [32, 64, 1024], [2048, 256, 96]]) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = tf.randomNormal(tA ? [K, M] : [M, K]);
      const b = tf.randomNormal(tB ? [N, K] : [K, N]);
      const f = () => tf.matMul(a, b, tA, tB);
      const ms: number[] = [];
      for (const enabled of [false, true, false, true]) {
        setMatMulFixOptions({ enabled });
        ms.push(time(f, 10));
      }
      setMatMulFixOptions({ enabled: true });
      const shipped = Math.min(ms[0], ms[2]);
      const fixed = Math.min(ms[1], ms[3]);
      rows.push({ shape: `${M}x${K}x${N}`, op: `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, shippedMs: +shipped.toFixed(2), fixedMs: +fixed.toFixed(2), speedup: +(shipped / fixed).toFixed(1) });
      tf.dispose([a, b]);
    }
  }
  console.table(rows);
}

/** ms per call of the unstack/split/slice shapes of the LSTM(256) forward and backward pass. */
async function sliceTable(): Promise<void> {
  await initBackend('wasm');
  const time = (f: () => tf.Tensor | tf.Tensor[], n: number) => {
    for (let i = 0; i < 3; i++) tf.dispose(f());
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tf.dispose(f());
    return (performance.now() - t0) / n;
  };
  const x = tf.randomNormal([T, B, E]); // time-major input, unstacked per step
  const h = tf.randomNormal([T, B, H]); // stacked outputs (gradient of stack = unstack)
  const z = tf.randomNormal([B, 4 * H]); // gate pre-activations, split in 4 every step
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    [`unstack [${T},${B},${E}] axis 0`, () => tf.unstack(x)],
    [`unstack [${T},${B},${H}] axis 0`, () => tf.unstack(h)],
    [`unstack [${T},${B},${H}] axis 1`, () => tf.unstack(h, 1)],
    [`split [${B},${4 * H}] in 4, axis -1`, () => tf.split(z, 4, -1)],
    [`slice [${B},${4 * H}] cols ${H}..${2 * H}`, () => tf.slice(z, [0, H], [-1, H])],
  ];
  const rows = [];
  for (const [op, f] of cases) {
    const ms: number[] = [];
    for (const enabled of [false, true, false, true]) {
      setSliceKernelOptions({ enabled });
      ms.push(time(f, 20));
    }
    setSliceKernelOptions({ enabled: true });
    const shipped = Math.min(ms[0], ms[2]);
    const fixed = Math.min(ms[1], ms[3]);
    rows.push({ op, shippedMs: +shipped.toFixed(3), fixedMs: +fixed.toFixed(3), speedup: +(shipped / fixed).toFixed(1) });
  }
  tf.dispose([x, h, z]);
  console.table(rows);
}

async function main(): Promise<void> {
  if (process.argv.includes('--matmul')) return matmulTable();
  if (process.argv.includes('--slice')) return sliceTable();
  const batches = Number(arg('batches', '4'));
  const cpuBatches = Number(arg('cpu-batches', '2'));
  const only = arg('only', 'wasm,wasm-noslice,wasm-shipped,cpu').split(',');
  const results = [];
  for (const what of only) {
    if (what === 'wasm' || what === 'wasm-noslice' || what === 'wasm-shipped') {
      await initBackend('wasm');
      setMatMulFixOptions({ enabled: what !== 'wasm-shipped' });
      setSliceKernelOptions({ enabled: what === 'wasm' });
      results.push(await run(what, batches));
      setMatMulFixOptions({ enabled: true });
      setSliceKernelOptions({ enabled: true });
    } else if (what === 'cpu') {
      await initBackend('cpu');
      results.push(await run('cpu', cpuBatches));
    } else {
      throw new Error(`unknown --only entry ${what}`);
    }
    console.log(JSON.stringify(results[results.length - 1]));
  }
  console.table(results);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
