/** `seqserve models [NAME]`: the model store (GET /models), or one model's versions and held-out metrics (GET /models/:name). */
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { fmtNum, printJson, table } from '../output.ts';

interface ModelSummary {
  name: string;
  latest: number;
  versions: number;
  task: string;
  architecture: string;
  created_at: string;
  quality_warning: { message?: string } | null;
}
interface ModelDetail {
  name: string;
  latest: number;
  versions: Array<{ version: number; manifest: Record<string, any> }>;
}

export const models: Command = {
  name: 'models',
  summary: 'list models, or show one model\'s versions and held-out metrics',
  help: `usage: seqserve models [NAME]

Without NAME: every model with its task, architecture, latest version and whether it carries a
quality warning. With NAME: each version's held-out metrics beside their baselines.`,
  options: {},
  async run({ positionals, client, io, json }) {
    const [name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, 'models');
    if (name === undefined) {
      const { models: list } = await client.get<{ models: ModelSummary[] }>('/models');
      if (json) return printJson(io, { models: list }), 0;
      if (list.length === 0) {
        io.stdout.write('no models yet (seqserve train FILE --name NAME --follow)\n');
        return 0;
      }
      const rows = list.map((m) => ({ ...m, created: m.created_at.slice(0, 16).replace('T', ' '), warning: m.quality_warning ? 'below baseline' : '' }));
      io.stdout.write(table(rows, [['name', 'NAME'], ['task', 'TASK'], ['architecture', 'ARCH'], ['latest', 'LATEST'], ['versions', 'VERSIONS'], ['created', 'CREATED'], ['warning', 'QUALITY']]));
      return 0;
    }
    const detail = await client.get<ModelDetail>(`/models/${encodeURIComponent(name)}`);
    if (json) return printJson(io, detail), 0;
    io.stdout.write(`${detail.name} (latest ${detail.latest})\n`);
    for (const v of detail.versions) {
      const m = v.manifest;
      const metrics = Object.entries((m.metrics ?? {}) as Record<string, number>)
        .map(([k, x]) => `${k} ${typeof x === 'number' ? fmtNum(x) : x}`)
        .join(', ');
      io.stdout.write(`  @${v.version}  ${m.task ?? '?'} ${m.architecture ?? ''}  ${String(m.created_at ?? '').slice(0, 16).replace('T', ' ')}\n`);
      if (metrics) io.stdout.write(`      held-out: ${metrics}\n`);
      if (m.quality_warning) io.stdout.write(`      quality warning: ${m.quality_warning.message ?? JSON.stringify(m.quality_warning)}\n`);
    }
    return 0;
  },
};
