/** GET /models, GET /models/:name, DELETE /models/:name, DELETE /models/:name/versions/:version. */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { Deleted, ModelDetail, ModelList, ModelParams, ModelVersionParams } from '../schemas/models.ts';

export const modelRoutes: FastifyPluginAsync = async (app) => {
  const { store, cache } = app.services;
  app.get('/models', { schema: { tags: ['models'], summary: 'List models', response: { 200: ModelList } } }, async () => ({ models: await store.list() }));

  app.get<{ Params: { name: string } }>(
    '/models/:name',
    { schema: { tags: ['models'], summary: 'A model: versions, manifests (hyperparameters, tokenizer, held-out metrics)', params: ModelParams, response: { 200: ModelDetail, '4xx': ErrorResponse } } },
    async (req) => store.get(req.params.name),
  );

  app.delete<{ Params: { name: string } }>(
    '/models/:name',
    { schema: { tags: ['models'], summary: 'Delete a model and all its versions', params: ModelParams, response: { 200: Deleted, '4xx': ErrorResponse } } },
    async (req) => {
      await store.deleteModel(req.params.name);
      cache.forget(req.params.name);
      return { deleted: req.params.name };
    },
  );

  app.delete<{ Params: { name: string; version: string } }>(
    '/models/:name/versions/:version',
    { schema: { tags: ['models'], summary: 'Delete one version (latest moves to the highest remaining one)', params: ModelVersionParams, response: { 200: Deleted, '4xx': ErrorResponse } } },
    async (req) => {
      const version = Number(req.params.version);
      await store.deleteVersion(req.params.name, version);
      cache.forget(req.params.name, version);
      return { deleted: `${req.params.name}@${version}` };
    },
  );
};
