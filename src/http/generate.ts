/** POST /generate: JSON, or Server-Sent Events with "stream": true (see streamed.ts). */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { GenerateRequest, GenerateResponse } from '../schemas/generate.ts';
import { respondStreamed } from './streamed.ts';

export const generateRoutes: FastifyPluginAsync = async (app) => {
  const { inference } = app.services;
  app.post<{ Body: GenerateRequest }>(
    '/generate',
    {
      config: { scope: 'infer' },
      schema: {
        tags: ['inference'],
        summary: 'Continue a prompt with a language model',
        description: 'With "stream": true the answer is text/event-stream: `event: token` frames {index, text, token_id, logprob}, then `event: done` {text, details}; errors after the first byte arrive as `event: error`.',
        body: GenerateRequest,
        response: { 200: GenerateResponse, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (req, reply) =>
      respondStreamed(req, reply, req.body.stream, (opts) => inference.generate(req.body, opts), (r) => ({ generated_text: r.text, details: r.details })),
  );
};
