/**
 * POST /datasets takes the raw file as the body: text/plain (text), application/x-ndjson or
 * application/jsonl (JSONL objects), text/csv, text/tab-separated-values (a header row); `?format=`
 * overrides the Content-Type, and `?task=` checks at upload that every row has the task's columns. The size limit is MAX_DATASET_BYTES.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { DatasetIdParams, DatasetInfo, DatasetList, DatasetUploadQuery } from '../schemas/datasets.ts';
import { Deleted } from '../schemas/models.ts';
import { ServiceError } from '../errors.ts';
import { TASK_ROLES } from '../tasks/task-data.ts';
import { ownerOf } from '../auth/scopes.ts';
import { seesDataset, visibleDataset } from './ownership.ts';

type Format = 'text' | 'jsonl' | 'csv' | 'tsv';
const FORMAT_BY_TYPE: Record<string, Format> = {
  'text/plain': 'text',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/jsonlines': 'jsonl',
  'text/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/octet-stream': 'text',
};

export const datasetRoutes: FastifyPluginAsync = async (app) => {
  const { datasets, config } = app.services;
  // Raw bodies for uploads, in this plugin only; the size cap is checked while reading.
  app.addContentTypeParser(Object.keys(FORMAT_BY_TYPE), { parseAs: 'buffer', bodyLimit: config.maxDatasetBytes }, (_req, body, done) => done(null, body));

  app.post<{ Querystring: DatasetUploadQuery }>(
    '/datasets',
    {
      config: { scope: 'train' },
      bodyLimit: config.maxDatasetBytes,
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset (raw body: text, JSONL, CSV or TSV)',
        querystring: DatasetUploadQuery,
        response: { 201: DatasetInfo, 200: DatasetInfo, '4xx': ErrorResponse },
      },
    },
    async (req, reply) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format = req.query.format ?? FORMAT_BY_TYPE[type];
      if (!format || !Buffer.isBuffer(req.body)) {
        throw new ServiceError('unsupported_media_type', `Content-Type must be one of ${Object.keys(FORMAT_BY_TYPE).join(', ')} (or pass ?format=text|jsonl|csv|tsv)`);
      }
      // Without ?task= rows are checked for structure only; their columns are checked by POST /train.
      const task = req.query.task;
      const info = await datasets.put(req.body, format, { name: req.query.name, requiredFields: format === 'text' || !task ? [] : TASK_ROLES[task].required, owner: ownerOf(req.auth) });
      return reply.code(201).send(info);
    },
  );

  app.get('/datasets', { config: { scope: 'train' }, schema: { tags: ['datasets'], summary: 'List datasets', response: { 200: DatasetList } } }, async (req) => ({
    datasets: (await datasets.list()).filter((d) => seesDataset(req.auth, d)),
  }));

  app.get<{ Params: { id: string } }>(
    '/datasets/:id',
    { config: { scope: 'train' }, schema: { tags: ['datasets'], summary: 'One dataset', params: DatasetIdParams, response: { 200: DatasetInfo, '4xx': ErrorResponse } } },
    async (req) => visibleDataset(datasets, req.params.id, req.auth),
  );

  app.delete<{ Params: { id: string } }>(
    '/datasets/:id',
    { config: { scope: 'admin' }, schema: { tags: ['datasets'], summary: 'Delete a dataset', params: DatasetIdParams, response: { 200: Deleted, '4xx': ErrorResponse } } },
    async (req) => {
      await datasets.delete(req.params.id); // dataset_not_found when absent
      return { deleted: req.params.id };
    },
  );
};
