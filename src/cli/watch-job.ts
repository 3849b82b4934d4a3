/**
 * Follows a training job until it ends (`train --follow`, `jobs ID --follow`): progress from the /ws
 * `subscribe` frames, or by polling GET /train/:id once a second when the WebSocket cannot be used.
 * Ctrl-C asks "cancel the job? [y/N]": yes → POST /train/:id/cancel and keep following until the job
 * reports cancelled; no → detach (the job keeps running) with exit code 130.
 * Exit codes: 0 completed, 1 failed or cancelled, 130 detached.
 */
import { ApiError, ConnectionError, type ApiClient } from './client.ts';
import { StreamSocket, type ProgressFrame } from './socket.ts';
import { ProgressDisplay, type JobProgress } from './progress.ts';
import { askYesNo } from './ask.ts';
import { fmtNum, formatError, type Io } from './output.ts';

export const ENDED = new Set(['completed', 'failed', 'cancelled']);
export const EXIT_DETACHED = 130;

export interface JobView {
  id: string;
  name: string;
  status: string;
  progress: (JobProgress & Record<string, unknown>) | null;
  error: string | null;
  result: { model: string; version: number; metrics: Record<string, number>; quality_warning: { message?: string } | null; stop_reason?: string } | null;
  [k: string]: unknown;
}

/** Resolves with the job's final view, or 'detached' when the user chose to stop watching. */
export async function watchJob(client: ApiClient, io: Io, jobId: string, opts: { quiet: boolean }): Promise<JobView | 'detached'> {
  const display = new ProgressDisplay(io.stderr);
  const show = (status: string, progress: JobProgress | null) => {
    if (!opts.quiet && !asking) display.update(status, progress);
  };
  let asking = false;
  let stopWatching: (outcome: 'detached') => void = () => undefined;
  const detached = new Promise<'detached'>((resolve) => (stopWatching = resolve));

  const onSigint = async () => {
    if (asking) return; // the question's own Ctrl-C handling answers it
    asking = true;
    display.clear();
    const yes = await askYesNo(io, `cancel the job ${jobId}? [y/N] `);
    if (yes) {
      try {
        await client.post(`/train/${jobId}/cancel`);
        io.stderr.write(`cancelling job ${jobId}…\n`);
      } catch (err) {
        io.stderr.write(`${formatError(err)}\n`);
      }
      asking = false;
    } else {
      io.stderr.write(`detached; job ${jobId} keeps running (seqserve jobs ${jobId} --follow)\n`);
      stopWatching('detached');
    }
  };
  const sigint = () => void onSigint();
  process.on('SIGINT', sigint);
  if (opts.quiet) io.stderr.write(`following job ${jobId} (Ctrl-C: cancel or detach)\n`);

  let socket: StreamSocket | undefined;
  let stopPolling = false;
  try {
    const followed = (async (): Promise<void> => {
      try {
        socket = await StreamSocket.open(client);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) throw err;
        if (!(err instanceof ConnectionError) && !(err instanceof ApiError)) throw err;
        // No WebSocket (a proxy that does not upgrade, …): poll instead, if HTTP works.
        await poll();
        return;
      }
      try {
        await socket.subscribe(jobId, (f: ProgressFrame) => show(f.status, f.progress as JobProgress | null));
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        await poll(); // the socket dropped mid-job: carry on by polling
      }
    })();
    followed.catch(() => undefined); // after a detach its late failure is of no interest
    async function poll(): Promise<void> {
      while (!stopPolling) {
        const view = await client.get<JobView>(`/train/${jobId}`);
        show(view.status, view.progress);
        if (ENDED.has(view.status)) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const outcome = await Promise.race([followed.then(() => 'ended' as const), detached]);
    if (outcome === 'detached') return 'detached';
    const view = await client.get<JobView>(`/train/${jobId}`);
    if (!opts.quiet) {
      display.update(view.status, view.progress);
      display.clear();
    }
    return view;
  } finally {
    stopPolling = true;
    process.off('SIGINT', sigint);
    socket?.close();
    display.clear();
  }
}

/** The closing lines for a job that ended: model@version and held-out metrics beside their baselines, or the error. */
export function describeEnd(view: JobView): string {
  if (view.status === 'completed' && view.result) {
    const r = view.result;
    const metrics = Object.entries(r.metrics ?? {})
      .map(([k, v]) => `${k} ${fmtNum(v)}`)
      .join(', ');
    const lines = [`completed: ${r.model}@${r.version}${r.stop_reason ? ` (stopped: ${r.stop_reason})` : ''}`];
    if (metrics) lines.push(`held-out: ${metrics}`);
    if (r.quality_warning) lines.push(`quality warning: ${r.quality_warning.message ?? JSON.stringify(r.quality_warning)}`);
    return lines.join('\n');
  }
  if (view.status === 'failed') return `failed: ${view.error ?? 'no reason given'}`;
  return `${view.status}${view.error ? `: ${view.error}` : ''}`;
}

export function exitCodeOf(view: JobView): number {
  return view.status === 'completed' ? 0 : 1;
}
