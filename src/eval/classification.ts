/**
 * Classification metrics: accuracy, per-class precision/recall/F1/support, macro-F1.
 *
 * Contract:
 * - `predicted[i]` is compared with `gold[i]` by exact string equality (no normalization).
 * - accuracy = #(predicted[i] === gold[i]) / n over ALL items, whatever `labels` is.
 * - Classes: `labels` when given (duplicates ignored, order kept), else the union of gold
 *   and predicted labels in order of first appearance (gold first, then predicted).
 * - Per class c: tp = #(pred = c ∧ gold = c), fp = #(pred = c ∧ gold ≠ c),
 *   fn = #(pred ≠ c ∧ gold = c); precision = tp / (tp + fp), recall = tp / (tp + fn),
 *   f1 = 2PR / (P + R), support = #(gold = c). Any 0/0 is 0 (sklearn zero_division=0):
 *   a class never predicted has precision 0; a class absent from gold has recall 0;
 *   a class in `labels` with neither predictions nor gold items has P = R = F1 = 0 and
 *   still counts in the macro mean (it pulls macro-F1 down, as in sklearn).
 * - macro_f1 = unweighted mean of per-class F1 over the classes.
 * - Empty input (or no classes) → accuracy 0 and macro_f1 0.
 * - `per_class` is a prototype-less object keyed by label (safe for any label string).
 * - Throws RangeError when the two lists differ in length.
 */

export interface ClassStats {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationResult {
  accuracy: number;
  macro_f1: number;
  per_class: Record<string, ClassStats>;
}

export function classificationMetrics(
  predicted: string[],
  gold: string[],
  labels?: string[],
): ClassificationResult {
  if (predicted.length !== gold.length) {
    throw new RangeError(
      `classificationMetrics: ${predicted.length} predictions but ${gold.length} gold labels`,
    );
  }
  const classes = [...new Set(labels ?? [...gold, ...predicted])];
  const tp = new Map<string, number>();
  const predCount = new Map<string, number>();
  const goldCount = new Map<string, number>();
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    const p = predicted[i];
    const g = gold[i];
    predCount.set(p, (predCount.get(p) ?? 0) + 1);
    goldCount.set(g, (goldCount.get(g) ?? 0) + 1);
    if (p === g) {
      correct++;
      tp.set(g, (tp.get(g) ?? 0) + 1);
    }
  }

  const per_class = Object.create(null) as Record<string, ClassStats>;
  let f1Sum = 0;
  for (const c of classes) {
    const t = tp.get(c) ?? 0;
    const np = predCount.get(c) ?? 0;
    const support = goldCount.get(c) ?? 0;
    const precision = np > 0 ? t / np : 0;
    const recall = support > 0 ? t / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    per_class[c] = { precision, recall, f1, support };
    f1Sum += f1;
  }
  return {
    accuracy: gold.length > 0 ? correct / gold.length : 0,
    macro_f1: classes.length > 0 ? f1Sum / classes.length : 0,
    per_class,
  };
}
