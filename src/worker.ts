/**
 * Worker process entry: consumes the training queue. Each job runs in a sandboxed child process
 * (src/train/job-processor.ts) so CPU-bound training cannot starve this process's event loop,
 * which must keep renewing the job lock. Crashed workers' jobs are recovered as stalled by any
 * other worker and resume from their last checkpoint.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import pino from 'pino';
import { loadConfig } from './config.ts';
import { TRAIN_QUEUE, type TrainJobData, type TrainJobResult } from './queue/contract.ts';
import { blockingRedis } from './queue/connection.ts';

/**
 * Lowers this process's scheduling priority to `nice` (never raises it: a worker started under a
 * higher nice keeps it). Job processes forked afterwards inherit it. Returns the niceness in effect;
 * a platform that refuses (no permission, no setpriority) leaves it unchanged and is logged.
 */
export function applyTrainNice(nice: number, logger: Pick<pino.Logger, 'warn'>): number {
  try {
    const current = os.getPriority();
    if (nice > current) os.setPriority(nice);
    return os.getPriority();
  } catch (err) {
    logger.warn({ err: (err as Error).message, nice }, 'could not lower the worker priority (TRAIN_NICE); training competes with serving as equals');
    return nice;
  }
}

export function startWorker(config = loadConfig(), logger = pino({ level: config.logLevel, name: 'seqserve-worker' })) {
  const nice = applyTrainNice(config.trainNice, logger);
  const processorFile = fileURLToPath(new URL('./train/job-processor.ts', import.meta.url));
  const worker = new Worker<TrainJobData, TrainJobResult>(TRAIN_QUEUE, processorFile, {
    connection: blockingRedis(config.redisUrl),
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledCheckMs,
    maxStalledCount: config.jobAttempts,
    useWorkerThreads: false,
    autorun: true,
  });
  worker.on('active', (job) => logger.info({ job_id: job.id, name: job.data.name }, 'training job started'));
  worker.on('completed', (job, result) => logger.info({ job_id: job.id, result }, 'training job ended'));
  worker.on('failed', (job, err) => logger.warn({ job_id: job?.id, err: err.message, attempts: job?.attemptsMade }, 'training attempt failed'));
  worker.on('stalled', (jobId) => logger.warn({ job_id: jobId }, 'recovered a stalled job (its worker stopped); it resumes from its checkpoint'));
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  logger.info({ queue: TRAIN_QUEUE, prefix: config.queuePrefix, concurrency: config.workerConcurrency, backend: config.tfjsBackend, nice }, 'worker ready');
  return worker;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, name: 'seqserve-worker' });
  const worker = startWorker(config, logger);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: running jobs checkpoint and resume on the next worker');
    // force=true: do not wait for a training run to finish; its child gets SIGTERM, checkpoints at
    // its next batch, and the job is recovered (stalled) and resumed by a worker.
    const timer = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 35000);
    timer.unref();
    worker.close(true).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: err.message }, 'worker close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
