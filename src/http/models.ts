/** GET /models, GET /models/:name, DELETE /models/:name, DELETE /models/:name/versions/:version. */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { Deleted, ModelDetail, ModelList, ModelParams, ModelRefParams, ModelVersionParams } from '../schemas/models.ts';
import { EvaluateRequest, EvaluateResponse } from '../schemas/seq2seq.ts';
import { loadEvaluationRows } from '../train/records.ts';
import { visibleDataset } from './ownership.ts';

export const modelRoutes: FastifyPluginAsync = async (app) => {
  const { store, cache, inference, config, datasets } = app.services;
  app.get('/models', { config: { scope: 'infer' }, schema: { tags: ['models'], summary: 'List models', response: { 200: ModelList } } }, async () => ({ models: await store.list() }));

  app.get<{ Params: { name: string } }>(
    '/models/:name',
    { config: { scope: 'infer' }, schema: { tags: ['models'], summary: 'A model: versions, manifests (hyperparameters, tokenizer, held-out metrics)', params: ModelParams, response: { 200: ModelDetail, '4xx': ErrorResponse } } },
    async (req) => store.get(req.params.name),
  );

  app.delete<{ Params: { name: string } }>(
    '/models/:name',
    { config: { scope: 'admin' }, schema: { tags: ['models'], summary: 'Delete a model and all its versions', params: ModelParams, response: { 200: Deleted, '4xx': ErrorResponse } } },
    async (req) => {
      await store.deleteModel(req.params.name);
      cache.forget(req.params.name);
      return { deleted: req.params.name };
    },
  );

  app.delete<{ Params: { name: string; version: string } }>(
    '/models/:name/versions/:version',
    { config: { scope: 'admin' }, schema: { tags: ['models'], summary: 'Delete one version (latest moves to the highest remaining one)', params: ModelVersionParams, response: { 200: Deleted, '4xx': ErrorResponse } } },
    async (req) => {
      const version = Number(req.params.version);
      await store.deleteVersion(req.params.name, version);
      cache.forget(req.params.name, version);
      return { deleted: `${req.params.name}@${version}` };
    },
  );

  app.post<{ Params: { name: string }; Body: EvaluateRequest }>(
    '/models/:name/evaluate',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['models'],
        summary: 'Score a model on a dataset with its task\'s metrics (BLEU, ROUGE, EM/F1, accuracy/macro-F1, perplexity)',
        description: 'Runs synchronously in the API process on at most max_examples rows, with greedy decoding; `name@version` picks a version. Seq2Seq results include the copy-the-input baseline (copy_input_*).',
        params: ModelRefParams,
        body: EvaluateRequest,
        response: { 200: EvaluateResponse, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (req) => {
      if ('id' in req.body.dataset) await visibleDataset(datasets, req.body.dataset.id, req.auth);
      const rows = await loadEvaluationRows(config, req.body.dataset);
      return inference.evaluate(req.params.name, rows, req.body.columns ?? {}, req.body.max_examples ?? 500);
    },
  );
};
