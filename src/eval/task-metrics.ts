/**
 * The held-out quality metric of each task, all in [0, 1]:
 *   translate: bleu (corpus BLEU-4 with brevity penalty; characters as tokens for zh/ja targets),
 *              chrf (corpus chrF, character 6-grams, β = 2: still moves where BLEU-4 reads 0),
 *              exact_match (share of outputs identical to the reference)
 *   summarize: rouge1, rouge2, rougeL (F1, mean over examples), exact_match
 *   qa:        exact_match, f1 (SQuAD normalisation)
 *   classify:  accuracy, macro_f1
 * plus, on the same rows, the baselines a model must beat (quality.ts warns when it does not):
 *   copy_input_<metric>: the input itself as the "prediction" (the source; for QA the passage, or
 *                        the question without one);
 *   lead_<metric>:       summarize only: the source's first sentence (Intl.Segmenter sentences);
 *   retrieval_<metric>:  the target of the most similar training example (tasks/retrieval.ts: a
 *                        translation memory for translate, the nearest document's summary, the
 *                        nearest question's answer) — the caller supplies those retrieved targets.
 */
import { bleuFromTexts } from './bleu.ts';
import { corpusChrf } from './chrf.ts';
import { classificationMetrics } from './classification.ts';
import { corpusQa } from './qa.ts';
import { corpusRouge } from './rouge.ts';
import type { PairExample, PairTask } from '../tasks/task-data.ts';

export function generationMetrics(task: PairTask, predictions: string[], references: string[], targetLanguage?: string): Record<string, number> {
  if (task === 'translate') return { bleu: bleuFromTexts(predictions, references, targetLanguage).bleu, chrf: corpusChrf(predictions, references), exact_match: exactShare(predictions, references) };
  if (task === 'summarize') {
    const r = corpusRouge(predictions, references);
    return { rouge1: r.rouge1, rouge2: r.rouge2, rougeL: r.rougeL, exact_match: exactShare(predictions, references) };
  }
  const q = corpusQa(predictions, references);
  return { exact_match: q.exact_match, f1: q.f1 };
}

/** Share of predictions identical to their reference (surrounding whitespace ignored). */
function exactShare(predictions: string[], references: string[]): number {
  if (predictions.length === 0) return 0;
  return predictions.filter((p, i) => p.trim() === references[i]!.trim()).length / predictions.length;
}

/** The same metrics for copying the input, keyed `copy_input_<metric>`. */
export function copyInputBaseline(task: PairTask, examples: readonly PairExample[], targetLanguage?: string): Record<string, number> {
  const copies = examples.map((e) => e.context ?? e.source);
  return prefixed('copy_input', generationMetrics(task, copies, examples.map((e) => e.target), targetLanguage));
}

const prefixed = (prefix: string, m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [`${prefix}_${k}`, v]));

/** The first sentence of a text (the whole text when it has one sentence), trimmed. */
export function leadSentence(text: string): string {
  for (const s of new Intl.Segmenter(undefined, { granularity: 'sentence' }).segment(text.trim())) {
    if (s.segment.trim().length > 0) return s.segment.trim();
  }
  return '';
}

/** summarize: the metrics of the lead sentence, keyed `lead_<metric>`. */
export function leadBaseline(examples: readonly PairExample[]): Record<string, number> {
  return prefixed('lead', generationMetrics('summarize', examples.map((e) => leadSentence(e.source)), examples.map((e) => e.target)));
}

/** The metrics of retrieved training targets (`retrieved[i]` for `examples[i]`), keyed `retrieval_<metric>`. */
export function retrievalBaseline(task: PairTask, retrieved: readonly string[], examples: readonly PairExample[], targetLanguage?: string): Record<string, number> {
  return prefixed('retrieval', generationMetrics(task, [...retrieved], examples.map((e) => e.target), targetLanguage));
}

export function classifierMetrics(predicted: string[], gold: string[], labels: string[]): Record<string, number> {
  const m = classificationMetrics(predicted, gold, labels);
  return { accuracy: m.accuracy, macro_f1: m.macro_f1 };
}

/** The metric a task is judged by first (what demos and docs quote). */
export const HEADLINE_METRIC: Record<PairTask | 'classify', string> = { translate: 'bleu', summarize: 'rougeL', qa: 'f1', classify: 'macro_f1' };
