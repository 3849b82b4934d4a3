/**
 * POST /models/:name/evaluate: scores a published model on a dataset, with the metrics training
 * stores in the manifest (task-metrics.ts) — greedy decoding for Seq2Seq, beside the copy-the-input
 * baseline; accuracy and macro-F1 for classifiers; perplexity for language models. Runs in the API
 * process on at most `maxExamples` rows (language models: at most MAX_EVAL_TOKENS tokens), yielding
 * to the event loop between batches.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { disposeState, type RecurrentLanguageModel } from '../arch/lm-step.ts';
import { classifierMetrics, copyInputBaseline, generationMetrics } from '../eval/task-metrics.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { ServiceError } from '../errors.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { argmaxIndex, classifyIds } from '../tasks/classify-forward.ts';
import { encodePairs, predictTexts, seq2seqLoss } from '../tasks/seq2seq-forward.ts';
import { encodeSourceIds } from '../tasks/pair-encoding.ts';
import { labeledExamples, pairExamples, type PairTask } from '../tasks/task-data.ts';
import type { LanguageModelEntry, LoadedModel } from './model-cache.ts';
import { sourceLimit, targetLimit } from '../store/manifest.ts';

export const MAX_EVAL_TOKENS = 20000;

export interface Evaluation {
  model: string;
  task: string;
  examples: number;
  metrics: Record<string, number>;
}

export async function evaluateModel(model: LoadedModel, rows: Record<string, string>[], columns: TrainJobData['columns'], maxExamples: number): Promise<Evaluation> {
  const task = model.manifest.task;
  if (model.kind === 'seq2seq') {
    const examples = pairExamples(task as PairTask, rows, columns).slice(0, maxExamples);
    const maxSrc = sourceLimit(model.manifest);
    const maxTgt = targetLimit(model.manifest);
    const predictions = await predictTexts(model.s2s, examples, model.tokenizer, model.targetTokenizer, maxSrc, maxTgt);
    const lang = (model.manifest.languages as { target?: string } | undefined)?.target;
    const loss = seq2seqLoss(model.s2s, encodePairs(examples, model.tokenizer, model.targetTokenizer, maxSrc, maxTgt), 32);
    const metrics = { ...generationMetrics(task as PairTask, predictions, examples.map((e) => e.target), lang), ...copyInputBaseline(task as PairTask, examples, lang) };
    if (loss !== null) Object.assign(metrics, { val_loss: loss, perplexity: Math.exp(loss) });
    return { model: model.ref, task, examples: examples.length, metrics };
  }
  if (model.kind === 'classify') {
    const examples = labeledExamples(rows, columns, 1).slice(0, maxExamples);
    const max = sourceLimit(model.manifest);
    const probs = await classifyIds(model.classifier, examples.map((e) => encodeSourceIds(model.tokenizer, { source: e.text }, max).ids));
    const labels = [...new Set([...model.labels, ...examples.map((e) => e.label)])];
    const metrics = classifierMetrics(probs.map((p) => model.labels[argmaxIndex(p)]!), examples.map((e) => e.label), labels);
    return { model: model.ref, task, examples: examples.length, metrics };
  }
  const texts = rows.map((r) => r[columns.text ?? 'text'] ?? '').filter((t) => t.length > 0).slice(0, maxExamples);
  const ids = encodeCorpus(texts, model.tokenizer).slice(0, MAX_EVAL_TOKENS);
  const loss = await languageModelLoss(model, ids);
  return { model: model.ref, task, examples: texts.length, metrics: { val_loss: loss, perplexity: Math.exp(loss) } };
}

/**
 * Mean next-token cross-entropy of a token stream, stepping the recurrent model statefully over up
 * to 16 parallel slices of it (each slice starts from the zero state, as generation does).
 */
async function languageModelLoss(model: LanguageModelEntry, ids: Int32Array): Promise<number> {
  const lm: RecurrentLanguageModel = model.lm;
  const rows = Math.max(1, Math.min(16, Math.floor(ids.length / 64)));
  const len = Math.floor(ids.length / rows);
  let state = lm.initialState(rows);
  let total = 0;
  let count = 0;
  try {
    for (let t = 0; t + 1 < len; t++) {
      const input = Int32Array.from({ length: rows }, (_, r) => ids[r * len + t]!);
      const next = Int32Array.from({ length: rows }, (_, r) => ids[r * len + t + 1]!);
      const r = lm.step(input, state);
      disposeState(state);
      state = r.state;
      const nll = tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.logSoftmax(r.logits), tf.oneHot(tf.tensor1d(next, 'int32'), lm.vocabSize)))));
      r.logits.dispose();
      total += (await nll.data())[0]!;
      nll.dispose();
      count += rows;
      if (t % 64 === 63) await yieldToEventLoop();
    }
  } finally {
    disposeState(state);
  }
  if (count === 0) throw new ServiceError('dataset_too_small', `the dataset has ${ids.length} tokens; evaluating a language model needs at least 2`);
  return total / count;
}
