/**
 * POST /generate: JSON, or Server-Sent Events with "stream": true (`token` events, then `done`;
 * a failure after the stream started is an `error` event). Closing the connection cancels.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { GenerateRequest, GenerateResponse } from '../schemas/generate.ts';
import { isServiceError, ServiceError } from '../errors.ts';
import { openSse } from './sse.ts';

export const generateRoutes: FastifyPluginAsync = async (app) => {
  const { inference } = app.services;
  app.post<{ Body: GenerateRequest }>(
    '/generate',
    {
      schema: {
        tags: ['inference'],
        summary: 'Continue a prompt with a language model',
        description: 'With "stream": true the answer is text/event-stream: `event: token` frames {index, text, token_id, logprob}, then `event: done` {text, details}; errors after the first byte arrive as `event: error`.',
        body: GenerateRequest,
        response: { 200: GenerateResponse, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (req, reply) => {
      // The client going away (socket closed before the answer was written) cancels the generation.
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      if (!req.body.stream) {
        const { text, details } = await inference.generate(req.body, { signal: abort.signal });
        return { generated_text: text, details };
      }

      let sse: ReturnType<typeof openSse> | undefined;
      try {
        const result = await inference.generate(req.body, {
          signal: abort.signal,
          onStart: () => {
            sse = openSse(reply);
          },
          onToken: (e) => sse?.send('token', e),
        });
        sse!.send('done', { text: result.text, details: result.details });
      } catch (err) {
        if (!sse) throw err; // nothing sent yet: a normal status code
        const svc = isServiceError(err) ? err : new ServiceError('internal_error', 'generation failed');
        if (!isServiceError(err)) req.log.error({ err }, 'generation failed mid-stream');
        sse.send('error', svc.toBody());
      }
      sse?.end();
      return reply;
    },
  );
};
