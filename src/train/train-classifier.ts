/**
 * Classifier training (task classify), independent of BullMQ: fits the tokenizer on the texts, maps
 * labels to class indices (sorted label names), splits off a seeded validation set, and trains the
 * encoder + pooling + softmax with class-weighted cross-entropy (balanced weights from the training
 * labels) through the shared loop. At the end it scores the held-out set: accuracy and macro-F1.
 */
import * as tf from '@tensorflow/tfjs';
import { TextClassifier, balancedClassWeights, weightedCrossEntropy, type ClassifierSpec } from '../arch/classifier.ts';
import type { RecurrentKind } from '../arch/lm.ts'; // request.ts refuses transformer for this task
import { classifierMetrics } from '../eval/task-metrics.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { checkQuality } from './quality-check.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { fitTokenizerFor, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import { FRESH_START, GradStats, lossMetrics, loopRules, optimizerStep, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';
import { argmaxIndex, classifyIds } from '../tasks/classify-forward.ts';
import { encodeSourceIds, inBatches, padRows } from '../tasks/pair-encoding.ts';
import { labelSet, type LabeledExample } from '../tasks/task-data.ts';
import { bucketedEpoch, splitExamples } from './epoch-order.ts';
import { applyAutoSize, describeAutoSize, type DataStats } from './auto-size.ts';

export interface ClassifierOutcome {
  stopped: boolean;
  model: TextClassifier;
  spec: ClassifierSpec;
  tokenizer: Tokenizer;
  labels: string[];
  metrics: Record<string, number>;
  qualityWarning: QualityWarning | null;
  /** Optimizer steps taken (all sessions). */
  steps: number;
  hyperparameters: TrainJobData['hyperparameters'];
  autoSized: Record<string, number>;
  summary: ReturnType<typeof trainingSummary>;
  epochsCompleted: number;
  tokensPerSec: number | null;
  durationSec: number;
}

interface Item {
  ids: number[];
  label: number;
}

function batchTensors(items: readonly Item[]) {
  const { ids, lengths, width } = padRows(items.map((i) => i.ids));
  return { ids: tf.tensor2d(ids, [items.length, width], 'int32'), lengths, labels: tf.tensor1d(items.map((i) => i.label), 'int32') };
}

export async function trainClassifier(job: TrainJobData, examples: readonly LabeledExample[], hooks: TrainHooks): Promise<ClassifierOutcome> {
  const given = job.hyperparameters;
  const started = Date.now();
  const resumed = hooks.checkpoint ? await hooks.checkpoint.load() : null;
  const tokenizer = resumed ? loadTokenizer(resumed.state.tokenizer) : fitTokenizerFor(job.tokenizer, examples.map((e) => e.text));
  const labels = resumed?.state.labels ?? labelSet(examples);
  const index = new Map(labels.map((l, i) => [l, i]));
  const toItem = (e: LabeledExample): Item => ({ ids: encodeSourceIds(tokenizer, { source: e.text }, given.max_source_length).ids, label: index.get(e.label) ?? 0 });
  const { train, val } = splitExamples(examples, given.validation_split, given.seed);
  const trainItems = train.map(toItem);
  const valItems = val.map(toItem);
  const stats: DataStats = { kind: 'classify', rows: trainItems.length, tokens: trainItems.reduce((n, i) => n + i.ids.length, 0), vocab: tokenizer.vocabSize };
  const { hyperparameters: hp, chosen } = applyAutoSize(job, stats);

  const spec: ClassifierSpec = {
    architecture: job.architecture as RecurrentKind, vocabSize: tokenizer.vocabSize, layers: hp.layers, units: hp.units,
    embeddingDim: hp.embedding_dim, bidirectional: hp.bidirectional, numClasses: labels.length,
  };
  const model = new TextClassifier(spec, hp.seed);
  const weights = tf.tensor1d(balancedClassWeights(trainItems.map((i) => i.label), labels.length));
  const optimizer = tf.train.adam(hp.learning_rate);
  try {
    const start: LoopStart = resumed ? await resumeFromCheckpoint(resumed, (w) => model.ws.assignOrdered(w), optimizer, hooks) : FRESH_START;
    if (!resumed) {
      await hooks.log(`classify: ${train.length} training texts, ${val.length} held out; ${labels.length} labels (${labels.join(', ')}); ${job.tokenizer.type} vocabulary ${tokenizer.vocabSize}`);
    }
    if (Object.keys(chosen).length > 0) await hooks.log(describeAutoSize(stats, chosen));
    const batchesOf = perEpoch((epoch) => bucketedEpoch(trainItems, (i) => i.ids.length, hp.batch_size, hp.seed, epoch));
    const vars = model.ws.variables();
    const gradStats = new GradStats();
    const result = await runTrainingLoop(
      {
        rules: loopRules(hp),
        gradStats,
        stepsIn: (epoch) => (hp.max_steps_per_epoch ? Math.min(batchesOf(epoch).length, hp.max_steps_per_epoch) : batchesOf(epoch).length),
        trainStep: async (epoch, step) => {
          const items = batchesOf(epoch)[step]!;
          const seed = (hp.seed + epoch * 100003 + step * 7) >>> 0;
          const loss = tf.tidy(() => {
            const b = batchTensors(items);
            return optimizerStep(optimizer, () => weightedCrossEntropy(model.logits(b.ids, b.lengths, { dropout: hp.dropout, seed }), b.labels, weights), vars, { clipNorm: hp.clip_norm, weightDecay: hp.weight_decay, stats: gradStats });
          });
          const value = (await loss.data())[0]!;
          loss.dispose();
          return { loss: value, tokens: items.reduce((n, i) => n + i.ids.length, 0) };
        },
        validate: () => {
          if (valItems.length === 0) return null;
          let total = 0;
          for (const chunk of inBatches(valItems, hp.batch_size)) {
            const l = tf.tidy(() => {
              const b = batchTensors(chunk);
              return weightedCrossEntropy(model.logits(b.ids, b.lengths), b.labels, tf.onesLike(weights) as tf.Tensor1D);
            });
            total += l.dataSync()[0]! * chunk.length;
            l.dispose();
          }
          return total / valItems.length;
        },
        weights: () => vars,
        setWeights: (w) => model.ws.assignOrdered(w),
        checkpointExtra: () => ({ tokenizer: tokenizer.toJSON(), labels }),
      },
      optimizer,
      hooks,
      start,
    );
    const steps = result.steps; // optimizer steps over all sessions (the loop counts them)
    const metrics = lossMetrics(result, false);
    let qualityWarning: QualityWarning | null = null;
    if (!result.stopped && valItems.length > 0) {
      const probs = await classifyIds(model, valItems.map((i) => i.ids));
      Object.assign(metrics, classifierMetrics(probs.map((p) => labels[argmaxIndex(p)]!), valItems.map((i) => labels[i.label]!), labels));
      // The majority-class baseline: what always answering the most frequent training label scores.
      const counts = labels.map((_, k) => trainItems.filter((i) => i.label === k).length);
      const majority = labels[argmaxIndex(Float32Array.from(counts))]!;
      const base = classifierMetrics(valItems.map(() => majority), valItems.map((i) => labels[i.label]!), labels);
      metrics.majority_class_accuracy = base.accuracy;
      metrics.majority_class_macro_f1 = base.macro_f1;
      metrics.eval_examples = valItems.length;
      await hooks.log(`held-out quality on ${valItems.length} examples: ${JSON.stringify(metrics)}`);
      qualityWarning = await checkQuality('classify', metrics, { steps, train_examples: trainItems.length }, hooks);
    }
    return {
      stopped: result.stopped, model, spec, tokenizer, labels, metrics, qualityWarning, steps, summary: trainingSummary(result), hyperparameters: hp, autoSized: chosen, epochsCompleted: result.epochsCompleted,
      tokensPerSec: result.tokensPerSec, durationSec: (Date.now() - started) / 1000,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    weights.dispose();
  }
}
