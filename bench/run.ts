/** `npm run bench`: every benchmark in turn (none of them is a test). Results: bench/README.md. */
import { spawnSync } from 'node:child_process';

const benches: Array<[string, string[]]> = [
  ['generation (in-process)', ['bench/generate.ts']],
  ['Seq2Seq decoding (in-process): stateful vs re-running the prefix, beam search, batched', ['bench/seq2seq.ts']],
  ['WebSocket streaming through the server (concurrent streams)', ['bench/server.ts', '--streams', '1,8,32,128', '--tokens', '200']],
  ['serving beside a training job: TTFT of 8 WebSocket streams idle vs with a job training at TRAIN_NICE 0 and 10', ['bench/ttft-training.ts', '--nice', '0,10', '--streams', '8', '--rounds', '12']],
  ['chat sessions through the server: TTFT per turn, kept state vs re-reading the history', ['bench/chat-sessions.ts', '--turns', '10', '--rounds', '3']],
  ['soak: 10,000+ tokens through the server (tensors and RSS must stay flat)', ['bench/soak.ts', '--tokens', '10000', '--streams', '8']],
  ['training matrix: fused vs tf.layers (with and without fixes) vs PyTorch', ['bench/train-matrix.ts']],
  ['quality on real data (default settings) vs copy/lead and retrieval baselines; needs npm run data:real', ['bench/quality.ts']],
  ['language-model quality vs PyTorch: char LSTM on the whole KJV, identical batches, held-out nats/char (needs bible-kjv, python3-torch)', ['bench/lm-quality.ts', '--steps', '1000']],
  ['Transformer LM vs the same GPT in PyTorch (nanoGPT laptop config, identical batches), decoding with the KV cache, LSTM at equal time (needs bible-kjv, python3-torch)', ['bench/gpt-quality.ts', '--steps', '2000', '--decode', '--lstm']],
  ['training on 1 vs 2 threads (TRAIN_THREADS: data parallelism over worker_threads), char LSTM(256)', ['bench/train-threads.ts', '--threads', '2', '--steps', '6', '--reps', '5']],
  ['training throughput (wasm fixes vs as shipped)', ['bench/wasm-fixes.ts', '--batches', '4', '--cpu-batches', '1']],
  ['training throughput, fused LSTM vs tf.layers.lstm (wasm)', ['bench/fused-rnn.ts', '--batches', '4', '--only', 'std,fused,std,fused']],
  ['training throughput, fused GRU vs tf.layers.gru (wasm)', ['bench/fused-rnn.ts', '--batches', '4', '--arch', 'gru', '--only', 'std,fused,std,fused']],
];
let failed = 0;
for (const [title, args] of benches) {
  console.log(`\n## ${title}\n$ node --import tsx ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
