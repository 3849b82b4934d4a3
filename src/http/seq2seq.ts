/** POST /summarize, /translate, /qa (Seq2Seq; JSON or SSE, see streamed.ts) and POST /classify. */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import {
  ClassifyRequest, ClassifyResponse, QaRequest, QaResponse, SummarizeRequest, SummarizeResponse, TranslateRequest, TranslateResponse,
} from '../schemas/seq2seq.ts';
import { respondStreamed } from './streamed.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const streamNote = 'With "stream": true the answer is text/event-stream (`token` events, then `done` {text, details}). With num_beams > 1, tokens are sent once the final hypothesis is decided. A model trained for another task is a 400 model_task_mismatch.';

export const seq2seqRoutes: FastifyPluginAsync = async (app) => {
  const { inference } = app.services;

  app.post<{ Body: SummarizeRequest }>(
    '/summarize',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'Summarize a text with a Seq2Seq model', description: streamNote, body: SummarizeRequest, response: { 200: SummarizeResponse, ...errors } } },
    async (req, reply) => {
      const { model, text, parameters } = req.body;
      return respondStreamed(req, reply, req.body.stream, (o) => inference.seq2seq('summarize', { model, source: text, parameters }, o), (r) => ({ summary: r.text, details: r.details }));
    },
  );

  app.post<{ Body: TranslateRequest }>(
    '/translate',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'Translate a text with a Seq2Seq model', description: streamNote, body: TranslateRequest, response: { 200: TranslateResponse, ...errors } } },
    async (req, reply) => {
      const { model, text, parameters } = req.body;
      return respondStreamed(req, reply, req.body.stream, (o) => inference.seq2seq('translate', { model, source: text, parameters }, o), (r) => ({ translation: r.text, details: r.details }));
    },
  );

  app.post<{ Body: QaRequest }>(
    '/qa',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'Answer a question (from a context passage, when given) with a Seq2Seq model', description: streamNote, body: QaRequest, response: { 200: QaResponse, ...errors } } },
    async (req, reply) => {
      const { model, question, context, parameters } = req.body;
      return respondStreamed(req, reply, req.body.stream, (o) => inference.seq2seq('qa', { model, source: question, context, parameters }, o), (r) => ({ answer: r.text, details: r.details }));
    },
  );

  app.post<{ Body: ClassifyRequest }>(
    '/classify',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'Classify a text: the most probable label and every label\'s probability', body: ClassifyRequest, response: { 200: ClassifyResponse, ...errors } } },
    async (req) => inference.classify(req.body),
  );
};
