/**
 * The auto-size policy: model width, embedding size, depth, batch size, learning rate and dropout
 * chosen from the data when the request did not set them (`TrainJobData.auto_size` lists the ones it
 * left to the policy). Pure and deterministic — a resumed job gets the same sizes from the same data.
 * The measurements behind it are in docs/training.md ("Convergence and defaults").
 *
 * Inputs: training rows, training tokens (Seq2Seq: target-side ids, the positions the loss counts;
 * classify: input ids), the vocabulary size(s) and, for Seq2Seq, the training targets' characters.
 * A Seq2Seq model is sized from its target CHARACTERS whatever the tokenizer ("tokens" below means
 * them): a subword or word tokenizer cuts the same text into 3–5× fewer ids, which used to give BPE
 * data the smallest, lightly regularised model. Measured on the man-page summaries (BPE 2000 + copy +
 * retrieval, 2,609 rows, one run each, docs/training.md "Summarize defaults"): sized from its 27k
 * BPE ids, 64 units, dropout 0.1 → held-out ROUGE-L 0.211; from its 117k characters, 128 units,
 * dropout 0.3 → 0.262 (96 units → 0.255; lead sentence 0.194, retrieval 0.301).
 *
 *   units      sized to the data: ≈ 0.375·√tokens rounded to a multiple of 32, clamped to
 *              [64, 512] (Seq2Seq) or [32, 256] (classify). A recurrent layer has ~8·units² weights,
 *              so parameters grow about linearly with the tokens — a few-thousand-pair character
 *              dataset (~130k target ids) gets 128 units (it overfits 256 within ~25 epochs and
 *              trains 3–4× slower per epoch), ~1M ids 384, a few hundred pairs 64.
 *   layers     1 below 2M training tokens, else 2.
 *   embedding  64 for small vocabularies (characters), 128 up to 8k tokens, else 256, never above units.
 *   batch_size 32, or 16 under 2,000 rows (more updates per epoch on small data), 64 above 50,000.
 *   learning_rate  0.002 (Adam; batch 64: 0.003).
 *   dropout    0.3 under 250k training tokens, 0.2 under 2M, else 0.1 — small data overfits first —
 *              except at the smallest width (64 units), which is capacity-bound: 0.1 (measured: 1k
 *              de-en pairs, 64 units, dropout 0.1 reached a held-out loss 0.1 nats/char below 0.3);
 *              and summarize under 250k: 0.45 (measured on the man-page summaries, 128 units, 200
 *              held-out rows: greedy ROUGE-L 0.268 twice at 0.45 against 0.260–0.262 three times at
 *              0.3; 4 beams 0.285–0.286 against 0.269–0.274; docs/training.md "Summarize defaults").
 *              Translate keeps 0.3: 0.45 was not measured there.
 *
 * Language models are not auto-sized: their defaults stay fixed, the size the PyTorch reference
 * comparison (bench/) is made at.
 */
import type { AUTO_SIZED, TrainJobData } from '../queue/contract.ts';

type AutoSized = (typeof AUTO_SIZED)[number];

export interface DataStats {
  kind: 'seq2seq' | 'classify';
  rows: number;
  tokens: number;
  /** The larger vocabulary (Seq2Seq: max of source and target). */
  vocab: number;
  /** Seq2Seq: characters of the training targets (+1 per row for its end); what the size is computed from. */
  chars?: number;
  /** The job's task (summarize gets more dropout on small data). */
  task?: string;
}

export type AutoSizes = Pick<TrainJobData['hyperparameters'], AutoSized>;

const roundTo = (x: number, m: number) => Math.round(x / m) * m;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The policy's choice for every auto-sizable hyperparameter. */
export function autoSizes(s: DataStats): AutoSizes {
  const [lo, hi] = s.kind === 'seq2seq' ? [64, 512] : [32, 256];
  const size = s.kind === 'seq2seq' && s.chars !== undefined ? s.chars : s.tokens;
  const units = clamp(roundTo(0.375 * Math.sqrt(Math.max(0, size)), 32), lo, hi);
  const embedding = Math.min(units, s.vocab <= 512 ? 64 : s.vocab <= 8000 ? 128 : 256);
  const batch = s.rows < 2000 ? 16 : s.rows > 50000 ? 64 : 32;
  return {
    units,
    layers: size >= 2_000_000 ? 2 : 1,
    embedding_dim: embedding,
    batch_size: batch,
    learning_rate: batch >= 64 ? 0.003 : 0.002,
    dropout: units <= 64 ? 0.1 : size < 250_000 ? (s.task === 'summarize' ? 0.45 : 0.3) : size < 2_000_000 ? 0.2 : 0.1,
  };
}

/**
 * The job's hyperparameters with the policy applied to those listed in `job.auto_size` (the ones
 * the request left unset), and what was chosen (empty when nothing was left to the policy).
 */
export function applyAutoSize(job: TrainJobData, s: DataStats): { hyperparameters: TrainJobData['hyperparameters']; chosen: Partial<AutoSizes> } {
  const auto = job.auto_size ?? [];
  if (auto.length === 0) return { hyperparameters: job.hyperparameters, chosen: {} };
  const sizes = autoSizes(s);
  const chosen: Partial<AutoSizes> = {};
  for (const k of auto) if (k in sizes) (chosen as Record<string, number>)[k] = sizes[k as AutoSized];
  // An explicit units below the policy's embedding size keeps the embedding within it.
  if (chosen.embedding_dim !== undefined) chosen.embedding_dim = Math.min(chosen.embedding_dim, chosen.units ?? job.hyperparameters.units);
  return { hyperparameters: { ...job.hyperparameters, ...chosen }, chosen };
}

/** "auto-size (2800 rows, 126000 tokens, vocabulary 94): units 256, …" for the job's log. */
export function describeAutoSize(s: DataStats, chosen: Partial<AutoSizes>): string {
  const parts = Object.entries(chosen).map(([k, v]) => `${k} ${v}`);
  const chars = s.chars !== undefined ? `, ${s.chars} target characters` : '';
  return `auto-size (${s.rows} rows, ${s.tokens} tokens${chars}, vocabulary ${s.vocab}): ${parts.join(', ')}`;
}

/**
 * The Transformer LM's policy (nanoGPT's scales: its 1M-character Shakespeare "laptop" run is
 * 4 layers × width 128 × context 64), applied to the hyperparameters the request left unset
 * (`job.auto_size`), from the training tokens:
 *
 *   embedding_dim  ≈ √tokens / 8 rounded to a multiple of 32, in [64, 256] (1M tokens → 128); a
 *                  multiple of `heads` when the request gave heads
 *   heads          embedding_dim / 32 (head width 32), or the largest divisor of the width below it
 *   layers         2 under 200k training tokens, else 4
 *   context_length 64, 128 from 2M training tokens
 *   dropout        0.2 under 1M training tokens, 0.1 under 10M, else 0
 *   learning_rate 0.001, weight_decay 0.1 (AdamW, matrices only), lr_schedule cosine (after warm-up)
 */
export type TransformerSizes = Pick<TrainJobData['hyperparameters'], 'layers' | 'heads' | 'embedding_dim' | 'context_length' | 'dropout' | 'learning_rate' | 'weight_decay' | 'lr_schedule'>;

export function transformerAutoSizes(tokens: number, given: Partial<TransformerSizes> = {}): TransformerSizes {
  let width = given.embedding_dim ?? clamp(roundTo(Math.sqrt(Math.max(0, tokens)) / 8, 32), 64, 256);
  if (given.embedding_dim === undefined && given.heads !== undefined) width = Math.ceil(width / given.heads) * given.heads;
  let heads = given.heads ?? Math.max(1, Math.floor(width / 32));
  while (width % heads !== 0) heads--;
  return {
    embedding_dim: width,
    heads,
    layers: tokens < 200_000 ? 2 : 4,
    context_length: tokens >= 2_000_000 ? 128 : 64,
    dropout: tokens < 1_000_000 ? 0.2 : tokens < 10_000_000 ? 0.1 : 0,
    learning_rate: 0.001,
    weight_decay: 0.1,
    lr_schedule: 'cosine',
  };
}

/** The Transformer job's hyperparameters with the policy applied to `job.auto_size`, and what was chosen. */
export function applyTransformerAutoSize(job: TrainJobData, tokens: number): { hyperparameters: TrainJobData['hyperparameters']; chosen: Record<string, number | string> } {
  const auto = new Set<string>(job.auto_size ?? []);
  if (auto.size === 0) return { hyperparameters: job.hyperparameters, chosen: {} };
  const hp = job.hyperparameters;
  const given: Partial<TransformerSizes> = {};
  for (const k of ['layers', 'heads', 'embedding_dim', 'context_length', 'dropout', 'learning_rate', 'weight_decay', 'lr_schedule'] as const) {
    if (!auto.has(k)) (given as Record<string, unknown>)[k] = hp[k];
  }
  const sizes = transformerAutoSizes(tokens, given);
  const chosen: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(sizes)) if (auto.has(k)) chosen[k] = v;
  return { hyperparameters: { ...hp, ...chosen }, chosen };
}
