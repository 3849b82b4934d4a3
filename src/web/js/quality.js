// Held-out metrics beside their baselines, as the model manifests and job results carry them.
// The table mirrors src/eval/quality.ts (HEADLINE): the task's headline metric and the baselines it
// is judged against on the same held-out rows.
import { el, num } from './dom.js';

export const HEADLINE = {
  translate: { metric: 'bleu', baselines: ['retrieval_bleu', 'copy_input_bleu'] },
  summarize: { metric: 'rougeL', baselines: ['retrieval_rougeL', 'lead_rougeL', 'copy_input_rougeL'] },
  qa: { metric: 'f1', baselines: ['retrieval_f1', 'copy_input_f1'] },
  classify: { metric: 'macro_f1', baselines: ['majority_class_macro_f1'] },
  generate: { metric: 'perplexity', baselines: ['bigram_perplexity', 'unigram_perplexity'], lowerIsBetter: true },
  chat: { metric: 'perplexity', baselines: ['retrieval_perplexity', 'unigram_perplexity'], lowerIsBetter: true },
};

/** "retrieval_bleu" → "retrieval", "copy_input_rougeL" → "copy input". */
const baselineName = (key, metric) => key.slice(0, -(metric.length + 1)).replace(/_/g, ' ');

/**
 * A compact view of a version's quality: the headline metric, each baseline present (marked when the
 * model does not beat it) and the quality warning's message when there is one.
 */
export function qualityView(task, metrics = {}, warning = null) {
  const h = HEADLINE[task];
  const parts = [];
  if (h && typeof metrics[h.metric] === 'number') {
    const value = metrics[h.metric];
    parts.push(el('span', { class: 'metric' }, el('b', {}, `${h.metric} ${num(value)}`)));
    for (const key of h.baselines) {
      if (typeof metrics[key] !== 'number') continue;
      const beaten = h.lowerIsBetter ? value < metrics[key] : value > metrics[key];
      parts.push(el('span', { class: beaten ? 'baseline' : 'baseline unbeaten', title: beaten ? 'beaten by the model' : 'not beaten by the model' }, `${baselineName(key, h.metric)} ${num(metrics[key])}`));
    }
  } else if (typeof metrics.val_loss === 'number') {
    parts.push(el('span', { class: 'metric' }, `val_loss ${num(metrics.val_loss)}`));
  }
  const box = el('div', { class: 'quality' }, ...parts);
  if (warning) box.append(el('p', { class: 'warning', role: 'note' }, el('strong', {}, 'Quality warning: '), warning.message));
  return box;
}
