/**
 * The training progress line: `renderProgress` (pure) turns a job's status and progress
 * ({epoch, epochs, step, steps, loss, val_loss, tokens_per_sec, eta_s}; epoch = epochs completed,
 * step/steps = batches of the current one) into one line with a bar; ProgressDisplay redraws it in
 * place on a TTY and otherwise writes plain lines, at most one a second plus every status change.
 */
import { fmtNum } from './output.ts';

export interface JobProgress {
  epoch?: number;
  epochs?: number;
  step?: number;
  steps?: number;
  loss?: number | null;
  val_loss?: number | null;
  tokens_per_sec?: number | null;
  eta_s?: number | null;
}

/** Share of the run done in [0, 1], by epochs (the server's bound; early stopping may end it sooner). */
export function fractionDone(p: JobProgress): number {
  if (!p.epochs) return 0;
  const inEpoch = p.steps ? Math.min(1, (p.step ?? 0) / p.steps) : 0;
  // A completed epoch reports epoch = k with step = steps of that epoch: do not count it twice.
  const done = (p.epoch ?? 0) + (inEpoch >= 1 && (p.epoch ?? 0) > 0 ? 0 : inEpoch);
  return Math.max(0, Math.min(1, done / p.epochs));
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function renderBar(fraction: number, width: number): string {
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One line: `running  epoch 2/5  step 30/60 [#####.....]  42%  loss 1.93  val 2.01  1,520 tok/s  ETA 0:48`. */
export function renderProgress(status: string, p: JobProgress | null, opts: { bar?: number } = {}): string {
  if (!p || p.epochs === undefined) return status;
  const parts = [status];
  const epoch = Math.min((p.epoch ?? 0) + (status === 'running' && (p.step ?? 0) < (p.steps ?? 0) ? 1 : 0), p.epochs) || 1;
  parts.push(`epoch ${epoch}/${p.epochs}`);
  // step 0 after epoch k: between epochs or finished — the epoch says it all.
  if (p.steps && !((p.step ?? 0) === 0 && (p.epoch ?? 0) > 0)) parts.push(`step ${p.step ?? 0}/${p.steps}`);
  const f = fractionDone(p);
  if (opts.bar) parts.push(`${renderBar(f, opts.bar)} ${String(Math.floor(f * 100)).padStart(3)}%`);
  if (typeof p.loss === 'number') parts.push(`loss ${fmtNum(p.loss)}`);
  if (typeof p.val_loss === 'number') parts.push(`val_loss ${fmtNum(p.val_loss)}`);
  if (typeof p.tokens_per_sec === 'number') parts.push(`${Math.round(p.tokens_per_sec).toLocaleString('en-US')} tok/s`);
  if (typeof p.eta_s === 'number' && status === 'running') parts.push(`ETA ${fmtDuration(p.eta_s)}`);
  return parts.join('  ');
}

export class ProgressDisplay {
  private lastLine = '';
  private lastStatus = '';
  private lastWriteAt = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly now: () => number = Date.now,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(status: string, progress: JobProgress | null): void {
    if (this.tty) {
      const width = this.out.columns ?? 100;
      const line = renderProgress(status, progress, { bar: width >= 110 ? 24 : width >= 90 ? 12 : 0 }).slice(0, width - 1);
      if (line === this.lastLine) return;
      this.out.write(`\r\x1b[2K${line}`);
      this.lastLine = line;
      this.drawn = true;
      return;
    }
    const line = renderProgress(status, progress);
    const changed = status !== this.lastStatus;
    if (line === this.lastLine || (!changed && this.now() - this.lastWriteAt < 1000)) return;
    this.out.write(`${line}\n`);
    this.lastLine = line;
    this.lastStatus = status;
    this.lastWriteAt = this.now();
  }

  /** Ends the redrawn line (before a prompt, a message or exit). */
  clear(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
    this.lastLine = '';
  }
}
