/**
 * Dispatches a training job to its task's trainer and publisher: generate → language model,
 * summarize/translate/qa → Seq2Seq, classify → classifier. Used by the sandboxed job processor and
 * by scripts that train demo models, so both publish exactly the same artefacts.
 */
import type { Config } from '../config.ts';
import type { StopReason, TrainJobData } from '../queue/contract.ts';
import type { ModelStore } from '../store/registry.ts';
import type { TrainHooks } from './loop.ts';
import { publishChatModel, publishClassifier, publishLanguageModel, publishSeq2Seq, type PublishInfo } from './publish.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { loadRows, loadTrainingRecords } from './records.ts';
import { labeledExamples, pairExamples, type PairTask } from '../tasks/task-data.ts';
import { trainClassifier } from './train-classifier.ts';
import { trainLanguageModel } from './train-lm.ts';
import { trainSeq2Seq } from './train-seq2seq.ts';
import { trainChatModel } from './train-chat.ts';
import { chatConversations } from '../tasks/chat-data.ts';
import { trainThreadsFor } from './data-parallel.ts';

export interface TrainedModel {
  stopped: boolean;
  metrics: Record<string, number>;
  /** Null when the model beats its baselines (eval/quality.ts). */
  qualityWarning: QualityWarning | null;
  stopReason: StopReason;
  publish(store: ModelStore, info: PublishInfo): Promise<{ version: number }>;
  dispose(): void;
}

/** `config.trainThreads` (TRAIN_THREADS; absent = 1, the one-thread path) applies to generate and chat jobs. */
export async function trainForTask(config: Pick<Config, 'dataDir' | 'maxDatasetBytes'> & Partial<Pick<Config, 'trainThreads'>>, data: TrainJobData, hooks: TrainHooks): Promise<TrainedModel> {
  const parallelism = { trainThreads: trainThreadsFor(config.trainThreads ?? 1) };
  if (data.task === 'generate') {
    const records = await loadTrainingRecords(config, data.dataset, data.columns.text ?? 'text');
    const outcome = await trainLanguageModel(data, records, hooks, parallelism);
    return { stopped: outcome.stopped, metrics: outcome.metrics, qualityWarning: outcome.qualityWarning, stopReason: outcome.summary.stop_reason, publish: (store, info) => publishLanguageModel(store, data, outcome, info), dispose: () => outcome.model.dispose() };
  }
  const rows = await loadRows(config, data.dataset);
  if (data.task === 'chat') {
    const outcome = await trainChatModel(data, chatConversations(rows, data.columns), hooks, parallelism);
    return { stopped: outcome.stopped, metrics: outcome.metrics, qualityWarning: outcome.qualityWarning, stopReason: outcome.summary.stop_reason, publish: (store, info) => publishChatModel(store, data, outcome, info), dispose: () => outcome.model.dispose() };
  }
  if (data.task === 'classify') {
    const outcome = await trainClassifier(data, labeledExamples(rows, data.columns), hooks);
    return { stopped: outcome.stopped, metrics: outcome.metrics, qualityWarning: outcome.qualityWarning, stopReason: outcome.summary.stop_reason, publish: (store, info) => publishClassifier(store, data, outcome, info), dispose: () => outcome.model.dispose() };
  }
  const task = data.task as PairTask;
  const examples = pairExamples(task, rows, data.columns);
  const outcome = await trainSeq2Seq({ ...data, task }, examples, hooks);
  const contextRows = examples.filter((e) => e.context !== undefined).length;
  return {
    stopped: outcome.stopped,
    metrics: outcome.metrics,
    qualityWarning: outcome.qualityWarning,
    stopReason: outcome.summary.stop_reason,
    publish: (store, info) => publishSeq2Seq(store, data, outcome, { ...info, contextRows, rows: examples.length }),
    dispose: () => outcome.model.dispose(),
  };
}
