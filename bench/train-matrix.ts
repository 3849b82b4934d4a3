/**
 * Hand-run measurement (not a test): training-throughput matrix, measured in ONE process so the
 * ratios are meaningful on a noisy shared machine.
 *
 * Models (char LM, Embedding(96→64) → RNN → Dense(96), softmax cross-entropy on every position,
 * Adam(2e-3), batch 32 × 64 random tokens):
 *   lstm256    one LSTM(256)
 *   gru256     one GRU(256)
 *   lstm512x2  two stacked LSTM(512)
 * Variants (wasm backend, initBackend('wasm') from src/backend/select.ts):
 *   fused    seqserve's fused layers (src/arch/fused-lstm.ts fusedLSTM, src/arch/fused-gru.ts fusedGRU), kernel fixes on
 *   std      tf.layers.lstm / tf.layers.gru as shipped, kernel fixes on
 *   shipped  tf.layers.lstm / tf.layers.gru with the matmul and slice fixes disabled (the JS
 *            UnsortedSegmentSum kernel stays registered: without it the Embedding gradient cannot run on wasm)
 * Runs are interleaved per model (std, fused, [shipped], std, fused, …) and the median per cell is
 * reported. "shipped" is ~7–10× slower, so it gets fewer runs and batches by default.
 *
 * PyTorch column: when /usr/bin/python3 can import torch, bench/torch_reference.py runs first as a
 * child process (same models, torch.set_num_threads(2)) with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
 * removed from its environment (they may be set on these machines and slow OpenBLAS down).
 *
 *   node --import tsx bench/train-matrix.ts [--batches 3] [--reps 2] [--shipped-batches 1] [--shipped-reps 1]
 *        [--models lstm256,gru256,lstm512x2] [--variants std,fused,shipped] [--torch-reps 3] [--no-torch]
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/select.ts';
import { setMatMulFixOptions } from '../src/backend/wasm-fixes.ts';
import { setSliceKernelOptions } from '../src/backend/wasm-slice-kernels.ts';
import { fusedLSTM } from '../src/arch/fused-lstm.ts';
import { fusedGRU } from '../src/arch/fused-gru.ts';
import { arg } from './lib/args.ts';
import { B, E, T, V, timeTraining } from './lib/char-lm.ts';

const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));

type ModelName = 'lstm256' | 'gru256' | 'lstm512x2';
type Variant = 'std' | 'fused' | 'shipped';
const MODELS: Record<ModelName, { cell: 'lstm' | 'gru'; units: number; layers: number; title: string }> = {
  lstm256: { cell: 'lstm', units: 256, layers: 1, title: 'LSTM(256)' },
  gru256: { cell: 'gru', units: 256, layers: 1, title: 'GRU(256)' },
  lstm512x2: { cell: 'lstm', units: 512, layers: 2, title: 'LSTM(512)×2' },
};
const VARIANTS: readonly Variant[] = ['std', 'fused', 'shipped'];

function buildModel(name: ModelName, fused: boolean): tf.LayersModel {
  const { cell, units, layers } = MODELS[name];
  // glorot instead of the default orthogonal recurrent initializer: its QR only slows down building.
  const common = { units, recurrentInitializer: 'glorotUniform' as const };
  const rnn = (): tf.layers.Layer =>
    cell === 'gru'
      ? fused ? fusedGRU(common) : tf.layers.gru({ ...common, returnSequences: true, recurrentActivation: 'sigmoid' })
      : fused ? fusedLSTM(common) : tf.layers.lstm({ ...common, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true });
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }),
      ...Array.from({ length: layers }, rnn),
      tf.layers.dense({ units: V }),
    ],
  });
}

/** Tokens/s of `batches` training steps after one warm-up step. */
function measure(name: ModelName, variant: Variant, batches: number): { tokensPerSec: number; msPerBatch: number; loss: number; retained: number } {
  const start = tf.memory().numTensors;
  setMatMulFixOptions({ enabled: variant !== 'shipped' });
  setSliceKernelOptions({ enabled: variant !== 'shipped' });
  try {
    const { tokensPerSec, msPerBatch, loss } = timeTraining(`${name}/${variant}`, buildModel(name, variant === 'fused'), batches);
    // retained: tensors still alive after everything this run created was disposed (model, optimizer, data).
    return { tokensPerSec, msPerBatch, loss, retained: tf.memory().numTensors - start };
  } finally {
    setMatMulFixOptions({ enabled: true });
    setSliceKernelOptions({ enabled: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface TorchResult {
  torch: string;
  threads: number;
  models: Record<string, { tokensPerSec: number; runs: number[] }>;
}

/** Runs bench/torch_reference.py if /usr/bin/python3 can import torch; returns undefined (and says why) otherwise. */
function runTorch(models: ModelName[], batches: number, reps: number): TorchResult | undefined {
  const env = { ...process.env };
  const unset = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'].filter((k) => k in env);
  for (const k of unset) delete env[k];
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { env, encoding: 'utf8', timeout: 60_000 });
  if (probe.error || probe.status !== 0) {
    console.log(`PyTorch column skipped: ${PYTHON} cannot import torch (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`);
    return undefined;
  }
  console.log(`PyTorch reference: ${PYTHON} bench/torch_reference.py; removed from its env: ${unset.length ? unset.join(', ') : '(neither was set)'}`);
  const r = spawnSync(
    PYTHON,
    [path.join(HERE, 'torch_reference.py'), '--batches', String(batches), '--reps', String(reps), '--threads', '2', '--models', models.join(',')],
    { env, encoding: 'utf8', timeout: 600_000 },
  );
  if (r.error || r.status !== 0) {
    console.log(`PyTorch column skipped: torch_reference.py failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-500)}`);
    return undefined;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as TorchResult;
  console.log(`PyTorch ${parsed.torch}, ${parsed.threads} threads: ${JSON.stringify(parsed.models)}`);
  return parsed;
}

const fmt = (n: number | undefined) => (n == null || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined) => (a == null || b == null || !b ? '–' : `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×`);

async function main(): Promise<void> {
  const batches = Number(arg('batches', '3'));
  const reps = Number(arg('reps', '2'));
  const shippedBatches = Number(arg('shipped-batches', '1'));
  const shippedReps = Number(arg('shipped-reps', '1'));
  const torchReps = Number(arg('torch-reps', '3'));
  const models = arg('models', Object.keys(MODELS).join(',')).split(',') as ModelName[];
  const variants = arg('variants', VARIANTS.join(',')).split(',') as Variant[];
  for (const m of models) if (!(m in MODELS)) throw new Error(`unknown model ${m} (expected ${Object.keys(MODELS).join('|')})`);
  for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v} (expected ${VARIANTS.join('|')})`);

  const t0 = performance.now();
  const torch = process.argv.includes('--no-torch') ? undefined : runTorch(models, batches, torchReps);

  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(`wasm backend unavailable (got ${info.name})`);
  console.log(`tf.js ${tf.version.tfjs}, backend ${info.name}, threads ${info.threads}, fixes ${info.fixes.join(',')}`);
  console.log(`batch ${B} × ${T}; ${batches} timed batches after 1 warm-up (shipped: ${shippedBatches}), ${reps} interleaved runs per cell (shipped: ${shippedReps})`);

  const runs: Record<string, number[]> = {};
  for (const m of models) {
    // Interleave: std, fused, std, fused, …; the shipped runs are spread over the rounds.
    const order: Variant[] = [];
    for (let r = 0; r < Math.max(reps, shippedReps); r++) {
      for (const v of variants) {
        if (v === 'shipped' ? r < shippedReps : r < reps) order.push(v);
      }
    }
    for (const v of order) {
      const res = measure(m, v, v === 'shipped' ? shippedBatches : batches);
      (runs[`${m}/${v}`] ??= []).push(res.tokensPerSec);
      console.log(JSON.stringify({ model: m, variant: v, ...res }));
    }
  }

  const cell = (m: ModelName, v: Variant) => (runs[`${m}/${v}`] ? median(runs[`${m}/${v}`]!) : undefined);
  const hasTorch = torch != null;
  const head = [
    'model',
    'fused (ours)',
    'tf.layers + fixes',
    ...(variants.includes('shipped') ? ['tf.layers, no fixes'] : []),
    'fused / tf.layers+fixes',
    ...(variants.includes('shipped') ? ['tf.layers+fixes / no fixes', 'fused / no fixes'] : []),
    ...(hasTorch ? ['PyTorch', 'ours / PyTorch'] : []),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of models) {
    const f = cell(m, 'fused'), s = cell(m, 'std'), n = cell(m, 'shipped');
    const p = torch?.models[m]?.tokensPerSec;
    const row = [
      MODELS[m].title,
      fmt(f),
      fmt(s),
      ...(variants.includes('shipped') ? [fmt(n)] : []),
      ratio(f, s),
      ...(variants.includes('shipped') ? [ratio(s, n), ratio(f, n)] : []),
      ...(hasTorch ? [fmt(p), ratio(f, p)] : []),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  console.log(`\nTraining tokens/s (median per cell; all runs: ${JSON.stringify(runs)})\n`);
  console.log(lines.join('\n'));
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s, tensors alive at the end: ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
