/**
 * The classify request path: encode the text (truncated to the model's max_source_length), one
 * forward pass of encoder + pooling + softmax → the most probable label and every label's probability.
 */
import { encodeSourceIds } from '../tasks/pair-encoding.ts';
import { argmaxIndex, classifyIds } from '../tasks/classify-forward.ts';
import type { ClassifierEntry } from './model-cache.ts';
import { sourceLimit } from '../store/manifest.ts';

export interface ClassifyResult {
  label: string;
  /** Probability per label (sums to 1). */
  scores: Record<string, number>;
  details: { input_tokens: number; truncated_input_tokens: number; elapsed_ms: number; model: string };
}

export async function classifyText(model: ClassifierEntry, text: string): Promise<ClassifyResult> {
  const started = performance.now();
  const src = encodeSourceIds(model.tokenizer, { source: text }, sourceLimit(model.manifest));
  const [probs] = await classifyIds(model.classifier, [src.ids]);
  const scores: Record<string, number> = {};
  model.labels.forEach((l, i) => (scores[l] = probs![i]!));
  return {
    label: model.labels[argmaxIndex(probs!)]!,
    scores,
    details: { input_tokens: src.ids.length, truncated_input_tokens: src.truncated, elapsed_ms: Math.round((performance.now() - started) * 100) / 100, model: model.ref },
  };
}
