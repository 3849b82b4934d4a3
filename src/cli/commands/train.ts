/**
 * `seqserve train FILE --task … --name …`: uploads FILE (POST /datasets), queues a job (POST /train)
 * and, with --follow, shows its progress until it ends (watch-job.ts).
 */
import { UsageError, keyValues, list, num, str } from '../args.ts';
import type { Command } from '../command.ts';
import { uploadDataset } from '../dataset-upload.ts';
import { printJson } from '../output.ts';
import { EXIT_DETACHED, describeEnd, exitCodeOf, watchJob, type JobView } from '../watch-job.ts';

const TASKS = ['generate', 'chat', 'summarize', 'translate', 'qa', 'classify'];
/** Tasks POST /datasets?task= can check at upload (chat rows are checked by POST /train). */
const UPLOAD_CHECKED = new Set(['generate', 'summarize', 'translate', 'qa', 'classify']);

export const train: Command = {
  name: 'train',
  summary: 'upload a dataset and train a model on it (--follow shows progress)',
  help: `usage: seqserve train FILE --name NAME [--task TASK] [options]

Uploads FILE as a dataset and queues a training job. Formats by extension: .txt (or anything else)
plain text, .jsonl/.ndjson JSONL, .csv, .tsv (or --format). Without --follow it prints the job id
and returns; with --follow it shows a progress bar (epoch, step, loss, val_loss, tokens/s, ETA)
until the job ends. Ctrl-C then asks whether to cancel the job (otherwise it keeps running).
Exit code: 0 when the job completed, 1 when it failed or was cancelled, 130 when detached.

options:
  --name NAME              model name to publish (required; ^[a-z0-9][a-z0-9._-]{0,63}$)
  --task TASK              ${TASKS.join(' | ')} (default generate)
  --architecture ARCH      lstm | gru (default lstm)
  --tokenizer TYPE         char | word | bpe (default: bpe for summarize, else char)
  --vocab-size N           bpe: vocab_size; char/word: max_vocab
  --hp KEY=VALUE           a hyperparameter, repeatable (--hp epochs=3 --hp units=128); see docs/training.md
  --column ROLE=NAME       a dataset column per role when its name differs, repeatable (--column source=en)
  --languages SRC:TGT      translate: the language pair, e.g. en:fr
  --format FORMAT          text | jsonl | csv | tsv (default: by extension)
  --follow, -f             show progress until the job ends`,
  options: {
    name: { type: 'string' },
    task: { type: 'string' },
    architecture: { type: 'string' },
    tokenizer: { type: 'string' },
    'vocab-size': { type: 'string' },
    hp: { type: 'string', multiple: true },
    column: { type: 'string', multiple: true },
    languages: { type: 'string' },
    format: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
  },
  async run({ values, positionals, client, io, json }) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('train needs the dataset FILE', 'train');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, 'train');
    const name = str(values, 'name');
    if (!name) throw new UsageError('--name is required (the model to publish)', 'train');
    const task = str(values, 'task') ?? 'generate';
    if (!TASKS.includes(task)) throw new UsageError(`--task must be one of ${TASKS.join(', ')}, got "${task}"`, 'train');
    const tokenizerType = str(values, 'tokenizer');
    const vocab = num(values, 'vocab-size', { integer: true });
    const columns = keyValues(list(values, 'column'), 'column');
    const languages = str(values, 'languages');
    let langPair: { source: string; target: string } | undefined;
    if (languages !== undefined) {
      const m = /^([^:]+):([^:]+)$/.exec(languages);
      if (!m) throw new UsageError(`--languages takes SRC:TGT (e.g. en:fr), got "${languages}"`, 'train');
      langPair = { source: m[1]!, target: m[2]! };
    }
    const hyperparameters = keyValues(list(values, 'hp'), 'hp');

    const dataset = await uploadDataset(client, file, {
      format: str(values, 'format'),
      task: UPLOAD_CHECKED.has(task) && Object.keys(columns).length === 0 ? task : undefined,
    });
    if (!json) io.stderr.write(`uploaded ${file}: ${dataset.id} (${dataset.format}, ${dataset.examples} examples, ${dataset.bytes} bytes)\n`);

    const tokenizer =
      tokenizerType === undefined && vocab === undefined
        ? undefined
        : { ...(tokenizerType ? { type: tokenizerType } : {}), ...(vocab === undefined ? {} : tokenizerType === 'bpe' ? { vocab_size: vocab } : { max_vocab: vocab }) };
    const body = {
      name,
      task,
      dataset: { id: dataset.id },
      ...(str(values, 'architecture') ? { architecture: str(values, 'architecture') } : {}),
      ...(tokenizer ? { tokenizer } : {}),
      ...(Object.keys(columns).length ? { columns } : {}),
      ...(langPair ? { languages: langPair } : {}),
      ...(Object.keys(hyperparameters).length ? { hyperparameters } : {}),
    };
    const accepted = await client.post<{ job_id: string; status: string }>('/train', body);
    if (!values.follow) {
      const job = await client.get<JobView>(`/train/${accepted.job_id}`);
      if (json) printJson(io, { dataset, job });
      else io.stdout.write(`job ${accepted.job_id} ${job.status}: training ${name} (seqserve jobs ${accepted.job_id} --follow)\n`);
      return 0;
    }
    if (!json) io.stderr.write(`job ${accepted.job_id} queued: training ${name}\n`);
    const end = await watchJob(client, io, accepted.job_id, { quiet: json });
    if (end === 'detached') return EXIT_DETACHED;
    if (json) printJson(io, { dataset, job: end });
    else io.stdout.write(`${describeEnd(end)}\n`);
    return exitCodeOf(end);
  },
};
