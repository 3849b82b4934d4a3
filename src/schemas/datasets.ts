/** /datasets resources. Uploads are raw bodies (text/plain, application/x-ndjson, text/csv), not JSON. */
import { Type, type Static, type TLiteral } from '@sinclair/typebox';

export const DatasetFormat = Type.Union([Type.Literal('text'), Type.Literal('jsonl'), Type.Literal('csv'), Type.Literal('tsv')]);

export const DatasetInfo = Type.Object(
  {
    id: Type.String(),
    sha256: Type.String(),
    bytes: Type.Integer(),
    examples: Type.Integer({ description: 'Non-blank lines (text) or records (JSONL, CSV, TSV).' }),
    columns: Type.Optional(Type.Array(Type.String(), { description: 'Field names: the header (CSV, TSV), every key of the records (JSONL), ["text"] (text).' })),
    format: DatasetFormat,
    name: Type.Optional(Type.String()),
    created_at: Type.String(),
  },
  { $id: 'DatasetInfo' },
);
export type DatasetInfo = Static<typeof DatasetInfo>;

export const DatasetList = Type.Object({ datasets: Type.Array(DatasetInfo) }, { $id: 'DatasetList' });
export const DatasetIdParams = Type.Object({ id: Type.String({ pattern: '^ds_[0-9a-f]{24}$' }) }, { additionalProperties: false });
export const DatasetUploadQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('jsonl'), Type.Literal('csv'), Type.Literal('tsv')], { description: 'Overrides the format implied by Content-Type.' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Display name stored with the dataset.' })),
    task: Type.Optional(
      Type.Union(['generate', 'summarize', 'translate', 'qa', 'classify'].map((t) => Type.Literal(t)) as [TLiteral<'generate'>, TLiteral<'summarize'>, TLiteral<'translate'>, TLiteral<'qa'>, TLiteral<'classify'>], {
        description: 'Check at upload that every JSONL/CSV/TSV row has this task\'s columns under their default names (generate: text; summarize, translate: source, target; qa: question, answer; classify: text, label). Without it only the structure is checked, and POST /train checks the columns (which it may rename with `columns`).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DatasetUploadQuery = Static<typeof DatasetUploadQuery>;
