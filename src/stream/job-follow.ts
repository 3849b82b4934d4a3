/**
 * Follows one training job for a WebSocket subscriber: sends its current state at once, then a
 * `progress` frame on every change, and stops after the frame that reports an end status.
 * A job `visible` rejects (another key's, docs/auth.md) fails with job_not_found, as an absent one.
 */
import type { JobEvent, JobView, TrainingQueue } from '../queue/training-queue.ts';
import { ServiceError } from '../errors.ts';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

export function followJob(
  queue: TrainingQueue,
  jobId: string,
  send: (frame: object) => void,
  fail: (err: unknown) => void,
  onEnd: () => void,
  visible: (view: JobView) => boolean = () => true,
): () => void {
  let stopped = false;
  let inFlight = false;
  let again = false;
  const frame = (v: JobView) => ({
    type: 'progress', job_id: v.id, status: v.status, progress: v.progress,
    ...(v.error ? { error: v.error } : {}), ...(v.result ? { result: v.result } : {}),
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    queue.events.off('job', onEvent);
    onEnd();
  };
  // Coalesces bursts of events into one read of the job at a time, never reordering frames.
  const refresh = async () => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      do {
        again = false;
        const view = await queue.get(jobId);
        if (stopped) return;
        if (!visible(view)) throw new ServiceError('job_not_found', `no training job with id ${jobId}`);
        send(frame(view));
        if (ENDED.has(view.status)) stop();
      } while (again && !stopped);
    } catch (err) {
      if (!stopped) fail(err);
      stop();
    } finally {
      inFlight = false;
    }
  };
  function onEvent(e: JobEvent) {
    if (e.job_id === jobId && !stopped) void refresh();
  }
  queue.events.on('job', onEvent);
  void refresh();
  return stop;
}
