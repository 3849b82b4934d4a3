/**
 * The API's side of the training queue: submit, inspect, cancel and follow jobs. Every call fails
 * fast with 503 `queue_unavailable` while Redis is unreachable (generation is unaffected).
 */
import { EventEmitter } from 'node:events';
import { Queue, QueueEvents, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { ServiceError } from '../errors.ts';
import { apiRedis, blockingRedis } from './connection.ts';
import { CANCEL_TTL_S, TRAIN_QUEUE, cancelKey, type StopReason, type TrainJobData, type TrainJobResult, type TrainProgressData } from './contract.ts';
import type { QualityWarning } from '../eval/quality.ts';

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  name: string;
  /** The API key name that queued it, or null (auth off). */
  owner: string | null;
  status: JobStatus;
  progress: TrainProgressData | null;
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  result: { model: string; version: number; metrics: Record<string, number>; quality_warning: QualityWarning | null; stop_reason?: StopReason } | null;
  request: Omit<TrainJobData, 'dataset'> & { dataset: ReturnType<typeof describeInline> };
}

/** Emitted on `events` for every job change: a progress report or an end. */
export interface JobEvent {
  job_id: string;
  kind: 'progress' | 'completed' | 'failed';
}

/** Inline training data can be large: a job view names its size, not its content. */
function describeInline(d: TrainJobData['dataset']): { id: string } | { text_bytes: number } | { rows: number } {
  if ('text' in d) return { text_bytes: Buffer.byteLength(d.text) };
  if ('rows' in d) return { rows: d.rows.length };
  return d;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
const isProgress = (p: unknown): p is TrainProgressData => typeof p === 'object' && p !== null && 'epoch' in p;
/** How long a request made just after start-up waits for the first Redis connection to settle. */
const FIRST_CONNECT_WAIT_MS = 3000;

export class TrainingQueue {
  readonly events = new EventEmitter();
  private readonly redis: Redis;
  private readonly queue: Queue<TrainJobData, TrainJobResult>;
  private queueEvents: QueueEvents | undefined;
  private eventsClient: Redis | undefined;
  private closed = false;
  private readonly firstAttempt: Promise<void>;

  constructor(private readonly opts: { redisUrl: string; prefix: string; attempts: number }) {
    this.redis = apiRedis(opts.redisUrl);
    this.redis.on('error', () => undefined); // state is read through `available`; errors surface per call
    // The first connection attempt has an outcome once Redis answers or refuses; until then a request
    // waits for it rather than being refused by a service that has only just started.
    this.firstAttempt = new Promise<void>((resolve) => {
      this.redis.once('ready', resolve);
      this.redis.once('error', () => resolve());
      this.redis.once('end', resolve);
      setTimeout(resolve, FIRST_CONNECT_WAIT_MS).unref();
    });
    this.queue = new Queue(TRAIN_QUEUE, { connection: this.redis, prefix: opts.prefix });
    this.queue.on('error', () => undefined);
    this.events.setMaxListeners(0);
    // QueueEvents (a blocking XREAD loop) starts once Redis is first reachable: started while Redis
    // is down, BullMQ can neither connect nor be closed.
    this.redis.once('ready', () => this.startEvents());
  }

  private startEvents(): void {
    if (this.queueEvents || this.closed) return;
    // BullMQ duplicates the client it is given; the original is kept only to be closed with it.
    this.eventsClient = blockingRedis(this.opts.redisUrl);
    this.eventsClient.on('error', () => undefined);
    const events = new QueueEvents(TRAIN_QUEUE, { connection: this.eventsClient, prefix: this.opts.prefix });
    events.on('error', () => undefined);
    events.on('progress', ({ jobId }) => this.events.emit('job', { job_id: jobId, kind: 'progress' } satisfies JobEvent));
    events.on('completed', ({ jobId }) => this.events.emit('job', { job_id: jobId, kind: 'completed' } satisfies JobEvent));
    events.on('failed', ({ jobId }) => this.events.emit('job', { job_id: jobId, kind: 'failed' } satisfies JobEvent));
    this.queueEvents = events;
  }

  /** True while the command connection is up. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.available) await this.firstAttempt;
    if (!this.available) throw new ServiceError('queue_unavailable', 'the training queue (Redis) is unreachable; generation still works, training endpoints are unavailable until it is back');
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw new ServiceError('queue_unavailable', `the training queue (Redis) failed: ${(err as Error).message}`);
    }
  }

  async submit(data: TrainJobData): Promise<string> {
    return this.guard(async () => {
      const job = await this.queue.add('train', data, {
        attempts: this.opts.attempts,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 30 * 24 * 3600, count: 1000 },
        removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
      });
      return job.id!;
    });
  }

  async get(id: string): Promise<JobView> {
    return this.guard(async () => {
      const job = await this.queue.getJob(id);
      if (!job) throw new ServiceError('job_not_found', `no training job with id ${id}`);
      return this.view(job);
    });
  }

  async list(limit = 100): Promise<JobView[]> {
    return this.guard(async () => {
      const jobs = await this.queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'], 0, limit - 1, false);
      const views = await Promise.all(jobs.filter((j): j is BullJob<TrainJobData, TrainJobResult> => Boolean(j)).map((j) => this.view(j)));
      return views.sort((a, b) => Number(b.id) - Number(a.id));
    });
  }

  /** Asks the job to stop. A running job stops at its next batch; a queued one ends before it starts. */
  async cancel(id: string): Promise<JobView> {
    return this.guard(async () => {
      const job = await this.queue.getJob(id);
      if (!job) throw new ServiceError('job_not_found', `no training job with id ${id}`);
      const before = await this.view(job);
      if (before.status === 'completed' || before.status === 'failed' || before.status === 'cancelled') {
        throw new ServiceError('job_not_cancellable', `job ${id} has already ended (${before.status})`);
      }
      await this.redis.set(cancelKey(this.opts.prefix, id), '1', 'EX', CANCEL_TTL_S);
      // A queued job changes status here, not in the worker: tell local subscribers now.
      this.events.emit('job', { job_id: id, kind: 'progress' } satisfies JobEvent);
      return this.view(job);
    });
  }

  async logs(id: string): Promise<string[]> {
    return this.guard(async () => {
      const job = await this.queue.getJob(id);
      if (!job) throw new ServiceError('job_not_found', `no training job with id ${id}`);
      return (await this.queue.getJobLogs(id, 0, 9999, true)).logs;
    });
  }

  private async view(fetched: BullJob<TrainJobData, TrainJobResult>): Promise<JobView> {
    const state = await fetched.getState();
    // The job may have ended between reading its hash and its state: re-read it for the result.
    const ended = state === 'completed' || state === 'failed';
    const job = ended && fetched.finishedOn === undefined ? ((await this.queue.getJob(fetched.id!)) ?? fetched) : fetched;
    const cancelRequested = (await this.redis.exists(cancelKey(this.opts.prefix, job.id!))) === 1;
    const result = job.returnvalue;
    let status: JobStatus;
    if (state === 'completed') status = result && result.cancelled ? 'cancelled' : 'completed';
    else if (state === 'failed') status = 'failed';
    else if (state === 'active') status = 'running';
    else status = cancelRequested ? 'cancelled' : 'queued';
    return {
      id: job.id!,
      name: job.data.name,
      owner: job.data.owner ?? null,
      status,
      progress: isProgress(job.progress) ? job.progress : null,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      created_at: new Date(job.timestamp).toISOString(),
      started_at: iso(job.processedOn),
      finished_at: state === 'completed' || state === 'failed' ? iso(job.finishedOn) : null,
      error: state === 'failed' ? job.failedReason ?? 'failed' : null,
      result: result && !result.cancelled ? { model: result.model, version: result.version, metrics: result.metrics, quality_warning: result.quality_warning ?? null, ...(result.stop_reason ? { stop_reason: result.stop_reason } : {}) } : null,
      // Inline training text can be large: the view names its size, not its content.
      request: { ...job.data, dataset: describeInline(job.data.dataset) },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    // BullMQ's close waits for a connection; with Redis down it would wait forever.
    const closing = Promise.allSettled([this.queueEvents?.close(), this.queue.close()]);
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
    // BullMQ's close removes every listener from the Queue's RedisConnection, but that connection's
    // first-connect promise is still pending while Redis is down, and it rejects (ECONNREFUSED) when
    // the shared client ends below: with no listener left, its re-emitted 'error' would crash the
    // process. Keep one that ignores it (test/unit/queue-close.test.ts).
    (this.queue as unknown as { connection: EventEmitter }).connection.on('error', () => undefined);
    this.redis.disconnect();
    this.eventsClient?.disconnect();
  }
}
