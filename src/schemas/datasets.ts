/** /datasets resources. Uploads are raw bodies (text/plain, application/x-ndjson, text/csv), not JSON. */
import { Type, type Static } from '@sinclair/typebox';

export const DatasetFormat = Type.Union([Type.Literal('text'), Type.Literal('jsonl'), Type.Literal('csv'), Type.Literal('tsv')]);

export const DatasetInfo = Type.Object(
  {
    id: Type.String(),
    sha256: Type.String(),
    bytes: Type.Integer(),
    examples: Type.Integer({ description: 'Non-blank lines (text) or records (JSONL, CSV, TSV).' }),
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
    name: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
