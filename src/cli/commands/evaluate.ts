/**
 * `seqserve evaluate MODEL FILE`: uploads FILE (POST /datasets) and scores the model on it
 * (POST /models/:name/evaluate): its task's metrics beside the copy-the-input and retrieval baselines.
 */
import { UsageError, keyValues, list, num, str } from '../args.ts';
import type { Command } from '../command.ts';
import { uploadDataset } from '../dataset-upload.ts';
import { fmtNum, printJson } from '../output.ts';

interface Evaluation {
  model: string;
  task: string;
  examples: number;
  metrics: Record<string, number>;
  quality_warning: { message?: string } | null;
}

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'score a model on a dataset file (BLEU, ROUGE, EM/F1, accuracy, perplexity)',
  help: `usage: seqserve evaluate MODEL FILE [--column ROLE=NAME …] [--max-examples N] [--format FORMAT]

Uploads FILE (rows with the columns of the model's task, as for training) and scores MODEL
(name or name@version) on its first rows with greedy decoding. Runs in the API process.

options:
  --column ROLE=NAME       a dataset column per role when its name differs, repeatable
  --max-examples N         rows scored at most (server default 500)
  --format FORMAT          text | jsonl | csv | tsv (default: by extension)`,
  options: { column: { type: 'string', multiple: true }, 'max-examples': { type: 'string' }, format: { type: 'string' } },
  async run({ values, positionals, client, io, json }) {
    const [model, file, ...extra] = positionals;
    if (!model || !file) throw new UsageError('evaluate needs MODEL and FILE', 'evaluate');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, 'evaluate');
    const columns = keyValues(list(values, 'column'), 'column');
    const maxExamples = num(values, 'max-examples', { integer: true });
    const dataset = await uploadDataset(client, file, { format: str(values, 'format') });
    const body = { dataset: { id: dataset.id }, ...(Object.keys(columns).length ? { columns } : {}), ...(maxExamples === undefined ? {} : { max_examples: maxExamples }) };
    const res = await client.post<Evaluation>(`/models/${encodeURIComponent(model)}/evaluate`, body);
    if (json) return printJson(io, res), 0;
    io.stdout.write(`${res.model} (${res.task}) on ${res.examples} examples of ${file}\n`);
    for (const [k, v] of Object.entries(res.metrics)) io.stdout.write(`  ${k.padEnd(28)} ${fmtNum(v)}\n`);
    if (res.quality_warning) io.stdout.write(`quality warning: ${res.quality_warning.message ?? JSON.stringify(res.quality_warning)}\n`);
    return 0;
  },
};
