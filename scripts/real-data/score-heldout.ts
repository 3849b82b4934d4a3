/**
 * Scores a published Seq2Seq model on held-out rows through the service's own request path
 * (InferenceService.seq2seq with DEFAULT parameters — what a client gets from POST /translate or
 * /summarize without `parameters`), beside the baselines computed on the same rows:
 *   copy_input  the source itself;
 *   lead        summarize: the source's first sentence;
 *   retrieval   the target of the most similar TRAINING row (a translation memory for translate, the
 *               nearest document's summary for summarize), by character-bigram Dice.
 * Metrics are src/eval/task-metrics.ts's (BLEU for translate, ROUGE-1/2/L for summarize).
 */
import { generationMetrics } from '../../src/eval/task-metrics.ts';
import type { InferenceService } from '../../src/infer/service.ts';
import type { RealRow, RealTask } from './splits.ts';

export interface HeldOutScores {
  rows: number;
  model: Record<string, number>;
  copy_input: Record<string, number>;
  lead?: Record<string, number>;
  retrieval: Record<string, number>;
  /** Decoding wall time for all rows, seconds. */
  decode_s: number;
  samples: Array<{ source: string; reference: string; output: string; retrieved: string }>;
}

/** The first sentence of a text (Intl.Segmenter), trimmed; the whole text when it has one. */
export function leadSentence(text: string): string {
  for (const s of new Intl.Segmenter('en', { granularity: 'sentence' }).segment(text.trim())) {
    if (s.segment.trim() !== '') return s.segment.trim();
  }
  return '';
}

/** Lowercased, whitespace-collapsed character bigrams (with a space at both ends), as a set. */
function bigrams(text: string): Set<string> {
  const cps = Array.from(` ${text.toLowerCase().replace(/\s+/g, ' ').trim()} `);
  const out = new Set<string>();
  for (let i = 0; i + 1 < cps.length; i++) out.add(cps[i]! + cps[i + 1]!);
  return out;
}

/** For each query, the target of the training row whose source has the highest bigram Dice (ties: first row). */
export function nearestTargets(train: readonly RealRow[], queries: readonly string[]): string[] {
  const keys = train.map((r) => bigrams(r.source));
  return queries.map((q) => {
    const qb = bigrams(q);
    let best = -1;
    let bestScore = -1;
    keys.forEach((k, i) => {
      let shared = 0;
      for (const b of qb) if (k.has(b)) shared++;
      const score = (2 * shared) / (qb.size + k.size);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    return best < 0 ? '' : train[best]!.target;
  });
}

/** Runs `concurrency` requests at a time (greedy requests of one model share batched decoder steps). */
async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

export async function scoreHeldOut(
  service: InferenceService,
  model: string,
  task: RealTask,
  train: readonly RealRow[],
  heldOut: readonly RealRow[],
  opts: { targetLanguage?: string; concurrency?: number; samples?: number } = {},
): Promise<HeldOutScores> {
  const refs = heldOut.map((r) => r.target);
  const started = performance.now();
  const outputs = await mapConcurrent(heldOut, opts.concurrency ?? 16, async (r) => (await service.seq2seq(task, { model, source: r.source })).text.trim());
  const decodeS = (performance.now() - started) / 1000;
  const retrieved = nearestTargets(train, heldOut.map((r) => r.source));
  const score = (preds: string[]) => generationMetrics(task, preds, refs, opts.targetLanguage);
  return {
    rows: heldOut.length,
    model: score(outputs),
    copy_input: score(heldOut.map((r) => r.source)),
    ...(task === 'summarize' ? { lead: score(heldOut.map((r) => leadSentence(r.source))) } : {}),
    retrieval: score(retrieved),
    decode_s: Math.round(decodeS * 10) / 10,
    samples: heldOut.slice(0, opts.samples ?? 5).map((r, i) => ({ source: r.source, reference: r.target, output: outputs[i]!, retrieved: retrieved[i]! })),
  };
}
