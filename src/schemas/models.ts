/** /models resources. */
import { Type } from '@sinclair/typebox';
import { ModelName, ModelRef, NullableQualityWarning } from './common.ts';

export const ModelSummary = Type.Object(
  {
    name: Type.String(),
    latest: Type.Integer(),
    versions: Type.Integer(),
    task: Type.String(),
    architecture: Type.String(),
    created_at: Type.String(),
    quality_warning: NullableQualityWarning,
  },
  { $id: 'ModelSummary' },
);
export const ModelList = Type.Object({ models: Type.Array(ModelSummary) }, { $id: 'ModelList' });
export const ModelVersion = Type.Object(
  {
    version: Type.Integer(),
    manifest: Type.Record(Type.String(), Type.Unknown(), {
      description: 'The version\'s manifest: hyperparameters, tokenizer, held-out `metrics` beside their baselines, and `quality_warning` (null, or why the model does not beat its strongest baseline).',
    }),
  },
  { $id: 'ModelVersion' },
);
export const ModelDetail = Type.Object(
  { name: Type.String(), latest: Type.Integer(), versions: Type.Array(ModelVersion) },
  { $id: 'ModelDetail' },
);
export const ModelParams = Type.Object({ name: ModelName }, { additionalProperties: false });
export const ModelRefParams = Type.Object({ name: ModelRef }, { additionalProperties: false });
export const ModelVersionParams = Type.Object(
  { name: ModelName, version: Type.String({ pattern: '^[1-9][0-9]{0,8}$', description: 'Version number.' }) },
  { additionalProperties: false },
);
export const Deleted = Type.Object({ deleted: Type.String() }, { $id: 'Deleted' });
