/**
 * BullMQ sandboxed processor for training jobs: runs in a child process forked by the worker, so
 * CPU-bound training never blocks the worker's event loop (which keeps renewing the job lock).
 *
 * Contract: returns TrainJobResult. A job cancelled through the API completes with
 * `{cancelled: true}` (never retried). On SIGTERM (worker shutdown) it checkpoints at the next
 * batch and fails the attempt; the job is then retried or recovered as stalled and resumes from
 * that checkpoint. A crash resumes from the last checkpoint too.
 */
import type { SandboxedJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { initBackend } from '../backend/select.ts';
import { ModelStore } from '../store/registry.ts';
import { cancelKey, type TrainJobData, type TrainJobResult } from '../queue/contract.ts';
import { isServiceError } from '../errors.ts';
import { CheckpointDir } from './checkpoint.ts';
import { describeDataset } from './records.ts';
import { trainForTask } from './run-task.ts';

let shuttingDown = false;
process.on('SIGTERM', () => {
  shuttingDown = true;
});
// A child orphaned by a killed worker must not keep training a job another worker will resume.
process.on('disconnect', () => process.exit(1));

export default async function processTrainJob(job: SandboxedJob<TrainJobData, TrainJobResult>): Promise<TrainJobResult> {
  const config = loadConfig();
  const backend = await initBackend(config.tfjsBackend, pino({ level: config.logLevel, name: 'seqserve-trainer' }));
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const key = cancelKey(config.queuePrefix, String(job.id));
  const log = async (line: string) => {
    await job.log(`${new Date().toISOString()} ${line}`);
  };
  let cancelled = false;
  let lastPoll = 0;
  const shouldStop = async (): Promise<boolean> => {
    if (shuttingDown || cancelled) return true;
    const now = Date.now();
    if (now - lastPoll >= 250) {
      lastPoll = now;
      cancelled = (await redis.get(key).catch(() => null)) !== null;
    }
    return cancelled;
  };
  const checkpoint = new CheckpointDir(config.dataDir, String(job.id));
  try {
    await log(`attempt ${job.attemptsMade + 1} started on backend ${backend.name} (pid ${process.pid})`);
    if (await shouldStop()) return { cancelled: true, reason: 'cancelled before it started' };
    const data = job.data;
    // Described now: a dataset deleted while the job trains must not cost the trained model.
    const dataset = await describeDataset(config, data.dataset);
    const outcome = await trainForTask(config, data, {
      onProgress: (p) => job.updateProgress(p as unknown as object),
      log,
      shouldStop,
      checkpoint,
    });
    try {
      if (outcome.stopped && cancelled) {
        await checkpoint.remove();
        await log('cancelled by request');
        return { cancelled: true, reason: 'cancelled by request' };
      }
      if (outcome.stopped) throw new Error('worker shutting down: checkpoint saved, the job will resume from it');
      const { version } = await outcome.publish(new ModelStore(config.modelsDir), { dataset, backend: backend.name, jobId: String(job.id) });
      await checkpoint.remove();
      await log(`published ${data.name}@${version}: ${JSON.stringify(outcome.metrics)}`);
      return { cancelled: false, model: data.name, version, metrics: outcome.metrics, quality_warning: outcome.qualityWarning, stop_reason: outcome.stopReason };
    } finally {
      outcome.dispose();
    }
  } catch (err) {
    // Client errors (too little text, unknown dataset) will not succeed on a retry.
    if (isServiceError(err)) {
      await log(`failed: ${err.message}`);
      await checkpoint.remove();
      throw new UnrecoverableError(`${err.code}: ${err.message}`);
    }
    await log(`attempt failed: ${(err as Error).message}`);
    throw err;
  } finally {
    redis.disconnect();
  }
}
