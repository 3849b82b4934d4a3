/** POST /train, GET /train, GET /train/:id, POST /train/:id/cancel, GET /train/:id/logs. */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { Job, JobIdParams, JobList, JobLogs, TrainAccepted, TrainRequest } from '../schemas/train.ts';
import { checkTrainingData, normalizeTrainRequest } from '../train/request.ts';
import { canSee, ownerOf } from '../auth/scopes.ts';
import { visibleDataset, visibleJob } from './ownership.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

export const trainRoutes: FastifyPluginAsync = async (app) => {
  const { queue, config, datasets } = app.services;

  app.post<{ Body: TrainRequest }>(
    '/train',
    {
      config: { scope: 'train' },
      bodyLimit: config.maxInlineTextBytes + 64 * 1024,
      schema: { tags: ['training'], summary: 'Queue a training job', body: TrainRequest, response: { 202: TrainAccepted, ...errors } },
    },
    async (req, reply) => {
      const data = normalizeTrainRequest(req.body);
      if ('id' in data.dataset) await visibleDataset(datasets, data.dataset.id, req.auth);
      await checkTrainingData(data, config);
      const jobId = await queue.submit({ ...data, owner: ownerOf(req.auth) });
      return reply.code(202).header('location', `/train/${jobId}`).send({ job_id: jobId, status: 'queued' });
    },
  );

  app.get('/train', { config: { scope: 'train' }, schema: { tags: ['training'], summary: 'Recent training jobs, newest first', response: { 200: JobList, ...errors } } }, async (req) => ({
    jobs: (await queue.list()).filter((j) => canSee(req.auth, j.owner)),
  }));

  app.get<{ Params: { id: string } }>(
    '/train/:id',
    { config: { scope: 'train' }, schema: { tags: ['training'], summary: 'A job: status and progress', params: JobIdParams, response: { 200: Job, ...errors } } },
    async (req) => visibleJob(queue, req.params.id, req.auth),
  );

  app.post<{ Params: { id: string } }>(
    '/train/:id/cancel',
    { config: { scope: 'train' }, schema: { tags: ['training'], summary: 'Cancel a job (a running job stops at its next batch and ends cancelled)', params: JobIdParams, response: { 202: Job, ...errors } } },
    async (req, reply) => {
      await visibleJob(queue, req.params.id, req.auth);
      return reply.code(202).send(await queue.cancel(req.params.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/train/:id/logs',
    { config: { scope: 'train' }, schema: { tags: ['training'], summary: 'Log lines of a job', params: JobIdParams, response: { 200: JobLogs, ...errors } } },
    async (req) => {
      await visibleJob(queue, req.params.id, req.auth);
      return { job_id: req.params.id, logs: await queue.logs(req.params.id) };
    },
  );
};
