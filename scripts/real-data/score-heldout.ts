/**
 * Scores a published Seq2Seq model on held-out rows through the service's own request path
 * (InferenceService.seq2seq with DEFAULT parameters — what a client gets from POST /translate or
 * /summarize without `parameters`), beside the baselines computed on the same rows:
 *   copy_input  the source itself;
 *   lead        summarize: the source's first sentence;
 *   retrieval   the target of the most similar TRAINING row (a translation memory for translate, the
 *               nearest document's summary for summarize): the service's own index
 *               (src/tasks/retrieval.ts, IDF-weighted character-bigram Dice), built on the training rows.
 * Metrics and baselines are src/eval/task-metrics.ts's — the definitions the manifests use, here on
 * rows the training job never saw (a manifest's figures are on the job's own validation split).
 */
import { copyInputBaseline, generationMetrics, leadBaseline, retrievalBaseline } from '../../src/eval/task-metrics.ts';
import { RetrievalIndex } from '../../src/tasks/retrieval.ts';
import type { InferenceService } from '../../src/infer/service.ts';
import type { Seq2SeqParameterInput } from '../../src/infer/params.ts';
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
  /** Every row's model output and retrieved target, in held-out order (for per-row analysis). */
  outputs: string[];
  retrieved: string[];
}

/** `{copy_input_bleu: x}` → `{bleu: x}`. */
const unprefix = (prefix: string, m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.slice(prefix.length + 1), v]));

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
  opts: { targetLanguage?: string; concurrency?: number; samples?: number; parameters?: Seq2SeqParameterInput } = {},
): Promise<HeldOutScores> {
  const refs = heldOut.map((r) => r.target);
  const started = performance.now();
  const outputs = await mapConcurrent(heldOut, opts.concurrency ?? 16, async (r) => (await service.seq2seq(task, { model, source: r.source, ...(opts.parameters ? { parameters: opts.parameters } : {}) })).text.trim());
  const decodeS = (performance.now() - started) / 1000;
  const index = RetrievalIndex.build(train);
  const retrieved = heldOut.map((r) => index.nearestTarget(r.source));
  return {
    rows: heldOut.length,
    model: generationMetrics(task, outputs, refs, opts.targetLanguage),
    copy_input: unprefix('copy_input', copyInputBaseline(task, heldOut, opts.targetLanguage)),
    ...(task === 'summarize' ? { lead: unprefix('lead', leadBaseline(heldOut)) } : {}),
    retrieval: unprefix('retrieval', retrievalBaseline(task, retrieved, heldOut, opts.targetLanguage)),
    decode_s: Math.round(decodeS * 10) / 10,
    samples: heldOut.slice(0, opts.samples ?? 5).map((r, i) => ({ source: r.source, reference: r.target, output: outputs[i]!, retrieved: retrieved[i]! })),
    outputs,
    retrieved,
  };
}
