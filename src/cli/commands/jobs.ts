/**
 * `seqserve jobs [ID]`: recent training jobs (GET /train), or one job (GET /train/:id) with
 * --logs (GET /train/:id/logs), --follow (progress until it ends) or --cancel (POST /train/:id/cancel).
 */
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { fmtNum, printJson, table } from '../output.ts';
import { renderProgress } from '../progress.ts';
import { EXIT_DETACHED, describeEnd, exitCodeOf, watchJob, type JobView } from '../watch-job.ts';

export const jobs: Command = {
  name: 'jobs',
  summary: 'list training jobs, or show / follow / cancel one',
  help: `usage: seqserve jobs [ID] [--follow | --logs | --cancel]

Without ID: recent jobs, newest first. With ID: the job's status, progress and result;
--logs prints its log lines, --follow shows progress until it ends (as train --follow),
--cancel cancels it (a running job stops at its next batch).`,
  options: { follow: { type: 'boolean', short: 'f' }, logs: { type: 'boolean' }, cancel: { type: 'boolean' } },
  async run({ values, positionals, client, io, json }) {
    const [id, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, 'jobs');
    const modes = ['follow', 'logs', 'cancel'].filter((m) => values[m] === true);
    if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} cannot be combined`, 'jobs');
    if (id === undefined) {
      if (modes.length) throw new UsageError(`--${modes[0]} needs a job ID`, 'jobs');
      const { jobs: list } = await client.get<{ jobs: JobView[] }>('/train');
      if (json) return printJson(io, { jobs: list }), 0;
      if (list.length === 0) {
        io.stdout.write('no jobs yet\n');
        return 0;
      }
      const rows = list.map((j) => ({
        id: j.id,
        name: j.name,
        status: j.status,
        epoch: j.progress ? `${j.progress.epoch}/${j.progress.epochs}` : '',
        loss: j.progress?.loss,
        val_loss: j.progress?.val_loss,
        created: String(j.created_at ?? '').slice(0, 19).replace('T', ' '),
        result: j.result ? `${j.result.model}@${j.result.version}` : (j.error ?? '').slice(0, 60),
      }));
      io.stdout.write(table(rows, [['id', 'ID'], ['name', 'NAME'], ['status', 'STATUS'], ['epoch', 'EPOCH'], ['loss', 'LOSS'], ['val_loss', 'VAL_LOSS'], ['created', 'CREATED'], ['result', 'RESULT']]));
      return 0;
    }
    if (!/^[0-9]{1,18}$/.test(id)) throw new UsageError(`a job ID is a number, got "${id}"`, 'jobs');
    if (values.logs) {
      const { logs } = await client.get<{ logs: string[] }>(`/train/${id}/logs`);
      if (json) printJson(io, { job_id: id, logs });
      else io.stdout.write(logs.map((l) => `${l}\n`).join(''));
      return 0;
    }
    if (values.cancel) {
      const view = await client.post<JobView>(`/train/${id}/cancel`);
      if (json) printJson(io, view);
      else io.stdout.write(`job ${id}: ${view.status}\n`);
      return 0;
    }
    if (values.follow) {
      const end = await watchJob(client, io, id, { quiet: json });
      if (end === 'detached') return EXIT_DETACHED;
      if (json) printJson(io, end);
      else io.stdout.write(`${describeEnd(end)}\n`);
      return exitCodeOf(end);
    }
    const view = await client.get<JobView>(`/train/${id}`);
    if (json) return printJson(io, view), 0;
    io.stdout.write(`job ${view.id}: ${view.name}\n${renderProgress(view.status, view.progress)}\n`);
    if (['completed', 'failed', 'cancelled'].includes(view.status)) io.stdout.write(`${describeEnd(view)}\n`);
    if (view.progress && typeof view.progress.best_val_loss === 'number') io.stdout.write(`best val_loss ${fmtNum(view.progress.best_val_loss)}\n`);
    return 0;
  },
};
