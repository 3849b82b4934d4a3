/**
 * POST /models/:name/evaluate: scores a published model on a dataset, with the metrics training
 * stores in the manifest (task-metrics.ts) — greedy decoding for Seq2Seq, beside the copy-the-input,
 * lead-sentence (summarize) and retrieval baselines (the model's stored index: the nearest training
 * example's target) and a quality warning when it does not beat them (eval/quality.ts, its reason from
 * the manifest's training loss and steps against the held-out loss on these rows); accuracy and
 * macro-F1 for classifiers; perplexity for language models. Runs in the API
 * process on at most `maxExamples` rows (language models: at most MAX_EVAL_TOKENS tokens), yielding
 * to the event loop between batches.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { disposeState } from '../arch/lm-step.ts';
import { TransformerLM } from '../arch/transformer.ts';
import { classifierMetrics, copyInputBaseline, generationMetrics, leadBaseline, retrievalBaseline } from '../eval/task-metrics.ts';
import { qualityWarning, type QualityWarning } from '../eval/quality.ts';
import { isRetrievalAugmented, retrievalKey, withRetrieved } from '../tasks/retrieval.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { ServiceError } from '../errors.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { argmaxIndex, classifyIds } from '../tasks/classify-forward.ts';
import { encodePairs, seq2seqLoss } from '../tasks/seq2seq-forward.ts';
import { predictTexts } from '../tasks/seq2seq-predict.ts';
import { defaultTranslator } from '../tasks/word-translation.ts';
import { encodeSourceIds } from '../tasks/pair-encoding.ts';
import { labeledExamples, pairExamples, type PairTask } from '../tasks/task-data.ts';
import type { LanguageModelEntry, LoadedModel } from './model-cache.ts';
import { sourceLimit, targetLimit } from '../store/manifest.ts';
import { chatConversations } from '../tasks/chat-data.ts';

export const MAX_EVAL_TOKENS = 20000;

export interface Evaluation {
  model: string;
  task: string;
  examples: number;
  metrics: Record<string, number>;
  /** Seq2Seq: null when the model beats its baselines on these rows; classify/generate: null (their baselines need the training data). */
  quality_warning: QualityWarning | null;
}

export async function evaluateModel(model: LoadedModel, rows: Record<string, string>[], columns: TrainJobData['columns'], maxExamples: number): Promise<Evaluation> {
  const task = model.manifest.task;
  if (model.kind === 'seq2seq') {
    const index = await model.retrieval();
    const given = pairExamples(task as PairTask, rows, columns).slice(0, maxExamples);
    const examples = index && isRetrievalAugmented(model.manifest) ? withRetrieved(given, index, false) : given;
    const maxSrc = sourceLimit(model.manifest);
    const maxTgt = targetLimit(model.manifest);
    const predictions = await predictTexts(model.s2s, examples, model.tokenizer, model.targetTokenizer, maxSrc, maxTgt, {
      task: model.manifest.task, lexicon: await model.lexicon(),
      ...(defaultTranslator(model.manifest) === 'word_alignment' ? { wordTranslator: await model.wordTranslator() } : {}),
    });
    const lang = (model.manifest.languages as { target?: string } | undefined)?.target;
    const loss = seq2seqLoss(model.s2s, encodePairs(examples, model.tokenizer, model.targetTokenizer, maxSrc, maxTgt), 32);
    const metrics: Record<string, number> = {
      ...generationMetrics(task as PairTask, predictions, examples.map((e) => e.target), lang),
      ...copyInputBaseline(task as PairTask, examples, lang),
      ...(task === 'summarize' ? leadBaseline(examples) : {}),
      ...(index ? retrievalBaseline(task as PairTask, examples.map((e) => e.retrieved ?? index.nearestTarget(retrievalKey(e))), examples, lang) : {}),
    };
    if (loss !== null) Object.assign(metrics, { val_loss: loss, perplexity: Math.exp(loss) });
    const trained = model.manifest.training as { steps?: number };
    const warning = qualityWarning(task, metrics, { train_loss: model.manifest.metrics.train_loss, val_loss: loss ?? undefined, steps: trained.steps });
    return { model: model.ref, task, examples: examples.length, metrics, quality_warning: warning };
  }
  if (model.kind === 'classify') {
    const examples = labeledExamples(rows, columns, 1).slice(0, maxExamples);
    const max = sourceLimit(model.manifest);
    const probs = await classifyIds(model.classifier, examples.map((e) => encodeSourceIds(model.tokenizer, { source: e.text }, max).ids));
    const labels = [...new Set([...model.labels, ...examples.map((e) => e.label)])];
    const metrics = classifierMetrics(probs.map((p) => model.labels[argmaxIndex(p)]!), examples.map((e) => e.label), labels);
    return { model: model.ref, task, examples: examples.length, metrics, quality_warning: null };
  }
  if (task === 'chat' && model.chat) {
    // Chat: perplexity on the assistant tokens (content and <|end|>) of the conversations, as in training.
    const conversations = chatConversations(rows, columns).slice(0, maxExamples);
    const ids: number[] = [];
    const counted: number[] = [];
    for (const c of conversations) {
      const r = model.chat.renderForTraining(c.messages);
      ids.push(...r.ids);
      counted.push(...r.weights);
    }
    const n = Math.min(ids.length, MAX_EVAL_TOKENS);
    const loss = await languageModelLoss(model, Int32Array.from(ids.slice(0, n)), Uint8Array.from(counted.slice(0, n)));
    return { model: model.ref, task, examples: conversations.length, metrics: { val_loss: loss, perplexity: Math.exp(loss) }, quality_warning: null };
  }
  const texts = rows.map((r) => r[columns.text ?? 'text'] ?? '').filter((t) => t.length > 0).slice(0, maxExamples);
  const ids = encodeCorpus(texts, model.tokenizer).slice(0, MAX_EVAL_TOKENS);
  const loss = await languageModelLoss(model, ids);
  return { model: model.ref, task, examples: texts.length, metrics: { val_loss: loss, perplexity: Math.exp(loss) }, quality_warning: null };
}

/**
 * Mean next-token cross-entropy of a token stream, stepping the recurrent model statefully over up
 * to 16 parallel slices of it (each slice starts from the zero state, as generation does). With
 * `counted`, only targets t with counted[t] = 1 enter the mean (chat: assistant tokens).
 */
async function languageModelLoss(model: LanguageModelEntry, ids: Int32Array, counted?: Uint8Array): Promise<number> {
  const lm = model.lm;
  if (lm instanceof TransformerLM) return transformerLoss(lm, ids, counted);
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
      const mask = Float32Array.from({ length: rows }, (_, k) => (counted ? counted[k * len + t + 1]! : 1));
      const nll = tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(tf.logSoftmax(r.logits), tf.oneHot(tf.tensor1d(next, 'int32'), lm.vocabSize)), -1), tf.tensor1d(mask)))));
      r.logits.dispose();
      total += (await nll.data())[0]!;
      nll.dispose();
      count += mask.reduce((a, b) => a + b, 0);
      if (t % 64 === 63) await yieldToEventLoop();
    }
  } finally {
    disposeState(state);
  }
  if (count === 0) throw new ServiceError('dataset_too_small', `the dataset has ${ids.length} tokens; evaluating a language model needs at least 2`);
  return total / count;
}

/**
 * The Transformer's version: consecutive windows of context_length positions (each read from its
 * start, as generation does), one forward pass each, yielding between groups of 16; `counted` as above.
 */
async function transformerLoss(lm: TransformerLM, ids: Int32Array, counted?: Uint8Array): Promise<number> {
  const N = lm.contextLength;
  let total = 0;
  let count = 0;
  const starts: number[] = [];
  for (let s = 0; s + 1 < ids.length; s += N) starts.push(s);
  for (let b = 0; b < starts.length; b += 16) {
    const group = starts.slice(b, b + 16);
    for (const s of group) {
      const len = Math.min(N, ids.length - 1 - s);
      const nll = tf.tidy(() => {
        const x = tf.tensor2d(ids.subarray(s, s + len), [1, len], 'int32');
        const y = tf.tensor1d(ids.subarray(s + 1, s + 1 + len), 'int32');
        const mask = tf.tensor1d(Float32Array.from({ length: len }, (_, k) => (counted ? counted[s + 1 + k]! : 1)));
        const logp = tf.logSoftmax(tf.reshape(lm.forward(x), [len, lm.vocabSize]));
        return tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(logp, tf.oneHot(y, lm.vocabSize)), -1), mask)));
      });
      total += (await nll.data())[0]!;
      nll.dispose();
      for (let k = 0; k < len; k++) count += counted ? counted[s + 1 + k]! : 1;
    }
    await yieldToEventLoop();
  }
  if (count === 0) throw new ServiceError('dataset_too_small', `the dataset has ${ids.length} tokens; evaluating a language model needs at least 2`);
  return total / count;
}
