/**
 * Publishes a trained language model as a new version of `job.name`: weights (model.json +
 * weights.bin), tokenizer.json and manifest.json, written durably into a temp dir and renamed into
 * place by the store (so `latest` never points at a half-written version). The caller keeps
 * ownership of `outcome.model`.
 */
import { writeFileDurable, safeJoin } from '../store/fs-utils.ts';
import { saveLayersModel } from '../store/layers-io.ts';
import { TOKENIZER_FILE, type ManifestInput } from '../store/manifest.ts';
import type { ModelStore } from '../store/registry.ts';
import type { TrainJobData } from '../queue/contract.ts';
import type { TrainOutcome } from './train-lm.ts';

export interface PublishInfo {
  dataset: ManifestInput['dataset'];
  backend: string;
  jobId?: string;
  /** Extra manifest fields (licence, data package, …). */
  extra?: Record<string, unknown>;
}

export async function publishLanguageModel(store: ModelStore, job: TrainJobData, outcome: TrainOutcome, info: PublishInfo) {
  return store.publish(
    job.name,
    async (dir) => {
      await saveLayersModel(outcome.model, dir);
      await writeFileDurable(safeJoin(dir, TOKENIZER_FILE), JSON.stringify(outcome.tokenizer.toJSON()));
    },
    {
      task: job.task,
      architecture: job.architecture,
      hyperparameters: { ...job.hyperparameters },
      tokenizer: { type: outcome.tokenizer.type, vocab_size: outcome.tokenizer.vocabSize, max_vocab: job.tokenizer.max_vocab },
      metrics: outcome.metrics,
      dataset: info.dataset,
      training: {
        ...(info.jobId ? { job_id: info.jobId } : {}),
        epochs_completed: outcome.epochsCompleted,
        ...(outcome.tokensPerSec === null ? {} : { tokens_per_sec: Math.round(outcome.tokensPerSec) }),
        duration_s: Math.round(outcome.durationSec),
        seed: job.hyperparameters.seed,
      },
      backend: info.backend,
      created_at: new Date().toISOString(),
      ...info.extra,
    },
  );
}
