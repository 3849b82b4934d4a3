/**
 * The honest quality report: does a model beat the baselines computed on the same held-out rows,
 * and if not, the most likely reason. Pure function of the metrics and a few training facts.
 *
 * Contract — `qualityWarning(task, metrics, facts)`:
 * - The task's headline metric is compared with its strongest baseline present in `metrics`:
 *     translate  bleu        vs retrieval_bleu, copy_input_bleu
 *     summarize  rougeL      vs retrieval_rougeL, lead_rougeL, copy_input_rougeL
 *     qa         f1          vs retrieval_f1, copy_input_f1
 *     classify   macro_f1    vs majority_class_macro_f1
 *     generate   perplexity  vs bigram_perplexity, unigram_perplexity (lower is better)
 *     chat       perplexity  vs retrieval_perplexity, unigram_perplexity (train/chat-baseline.ts)
 *   "Beats" means strictly better. Returns null when the model beats every baseline, or when the
 *   headline metric or every baseline is missing (nothing to judge).
 * - Otherwise `{ message, reason, metric, value, baseline, baseline_value }`, where `reason` is, from
 *   the train/held-out losses and the optimizer steps:
 *     overfitting      held-out loss more than OVERFIT_GAP (relative) above the training loss;
 *     too_little_data  the same, with fewer than SMALL_DATA training examples;
 *     too_few_steps    losses close, fewer than MIN_STEPS optimizer steps;
 *     underfitting     losses close after at least MIN_STEPS steps (the model cannot fit the data).
 *   Without losses the choice is between too_few_steps and underfitting by the step count.
 *   `message` is one plain sentence naming both figures, the reason and what to try.
 */

export type QualityReason = 'too_few_steps' | 'too_little_data' | 'underfitting' | 'overfitting';

export interface QualityWarning {
  message: string;
  reason: QualityReason;
  /** The headline metric and its value. */
  metric: string;
  value: number;
  /** The strongest baseline's metric key and value. */
  baseline: string;
  baseline_value: number;
}

export interface TrainingFacts {
  /** Mean training loss of the last epoch. */
  train_loss?: number;
  /** Held-out loss. */
  val_loss?: number;
  /** Optimizer steps taken. */
  steps?: number;
  /** Training examples (rows; windows for a language model). */
  train_examples?: number;
}

/** (val − train) / val above this = overfitting. */
export const OVERFIT_GAP = 0.1;
/** Fewer optimizer steps than this, with close losses = too few steps. */
export const MIN_STEPS = 1000;
/** Overfitting with fewer training examples than this = too little data. */
export const SMALL_DATA = 2000;

/** Per task: the headline metric and the baselines it is judged against (src/web/js/quality.js mirrors it; test/unit/web-mirrors.test.ts). */
export const HEADLINE: Record<string, { metric: string; baselines: string[]; lowerIsBetter?: boolean }> = {
  translate: { metric: 'bleu', baselines: ['retrieval_bleu', 'copy_input_bleu'] },
  summarize: { metric: 'rougeL', baselines: ['retrieval_rougeL', 'lead_rougeL', 'copy_input_rougeL'] },
  qa: { metric: 'f1', baselines: ['retrieval_f1', 'copy_input_f1'] },
  classify: { metric: 'macro_f1', baselines: ['majority_class_macro_f1'] },
  generate: { metric: 'perplexity', baselines: ['bigram_perplexity', 'unigram_perplexity'], lowerIsBetter: true },
  chat: { metric: 'perplexity', baselines: ['retrieval_perplexity', 'unigram_perplexity'], lowerIsBetter: true },
};

const DESCRIBE: Record<string, string> = {
  copy_input: 'the input copied as output',
  lead: 'the first sentence of the source',
  majority_class: 'always the most frequent training label',
  bigram: 'an add-k bigram model of the training tokens',
  unigram: 'an add-one unigram model of the training tokens',
};

function diagnose(f: TrainingFacts): { reason: QualityReason; advice: string } {
  const steps = f.steps ?? 0;
  const tl = f.train_loss;
  const vl = f.val_loss;
  const losses = tl !== undefined && vl !== undefined ? `training loss ${tl.toFixed(3)}, held-out loss ${vl.toFixed(3)}` : undefined;
  if (tl !== undefined && vl !== undefined && vl > 0 && (vl - tl) / vl > OVERFIT_GAP) {
    if ((f.train_examples ?? Infinity) < SMALL_DATA) {
      return { reason: 'too_little_data', advice: `the model memorises its ${f.train_examples} training examples (${losses}): add data, or raise dropout` };
    }
    return { reason: 'overfitting', advice: `the held-out loss is well above the training loss (${losses}): fewer epochs, more dropout, or a smaller model` };
  }
  if (steps < MIN_STEPS) {
    return { reason: 'too_few_steps', advice: `only ${steps} optimizer steps${losses ? ` (${losses}, still close)` : ''}: train longer (more epochs)` };
  }
  return { reason: 'underfitting', advice: `after ${steps} optimizer steps the model still does not fit its training data${losses ? ` (${losses})` : ''}: a larger model, a higher learning rate or another tokenizer` };
}

/** What the retrieval baseline is, per task. */
const RETRIEVAL: Record<string, string> = {
  translate: 'a translation memory: the target of the most similar training source',
  summarize: 'the summary of the most similar training document',
  qa: 'the answer to the most similar training question',
  chat: 'the reply to the most similar training prompt',
};

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4));

export function qualityWarning(task: string, metrics: Readonly<Record<string, number>>, facts: TrainingFacts = {}): QualityWarning | null {
  const h = HEADLINE[task];
  if (!h) return null;
  const value = metrics[h.metric];
  if (value === undefined || !Number.isFinite(value)) return null;
  const better = (a: number, b: number) => (h.lowerIsBetter ? a < b : a > b);
  let baseline: string | undefined;
  for (const key of h.baselines) {
    const v = metrics[key];
    if (v === undefined || !Number.isFinite(v)) continue;
    if (baseline === undefined || better(v, metrics[baseline]!)) baseline = key;
  }
  if (baseline === undefined) return null;
  const baselineValue = metrics[baseline]!;
  if (better(value, baselineValue)) return null;
  const kind = baseline.slice(0, baseline.length - h.metric.length - 1);
  const { reason, advice } = diagnose(facts);
  const message =
    `held-out ${h.metric} ${fmt(value)} does not beat the ${kind.replace('_', '-')} baseline ` +
    `(${baseline} ${fmt(baselineValue)}: ${(kind === 'retrieval' ? RETRIEVAL[task] : DESCRIBE[kind]) ?? kind}); most likely reason: ${reason.replaceAll('_', ' ')} — ${advice}.`;
  return { message, reason, metric: h.metric, value, baseline, baseline_value: baselineValue };
}
