/**
 * The OpenAI-compatible API (docs/openai.md): GET /v1/models, GET /v1/models/:id,
 * POST /v1/chat/completions, POST /v1/completions — JSON or SSE, OpenAI's wire format, errors in the
 * one error shape (which is OpenAI's). Thin: mapping.ts translates fields, respond.ts runs choices
 * and shapes answers, InferenceService does the work.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isServiceError, ServiceError } from '../../errors.ts';
import type { ModelCache } from '../../infer/model-cache.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import {
  ChatCompletion, ChatCompletionRequest, Completion, CompletionRequest, OpenAIModel, OpenAIModelList, OpenAIModelParams,
} from '../../schemas/openai.ts';
import type { ModelTask } from '../../store/manifest.ts';
import { completionPrompt, planGeneration, prepareBody, toChatMessages, toOpenAIParam } from './mapping.ts';
import { respondOpenAI, type RunChoice } from './respond.ts';
import { newEnvelope } from './responses.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const SEQ2SEQ: readonly ModelTask[] = ['summarize', 'translate', 'qa'];

/** `model` → its pinned `name@version` and task; a name that is not a model is a 404, as on OpenAI. */
async function resolveModel(cache: ModelCache, model: string, field = 'model') {
  try {
    return await cache.peekTask(model, field);
  } catch (err) {
    if (isServiceError(err) && (err.code === 'invalid_model_name' || err.code === 'invalid_parameter' || err.code === 'version_not_found')) {
      throw new ServiceError('model_not_found', `${field}: the model "${model.slice(0, 80)}" does not exist (GET /v1/models lists them)`, { param: field });
    }
    throw err;
  }
}

/** Service errors name `parameters.*`; the client sent OpenAI's fields. */
function withOpenAIParams(run: RunChoice, body: ChatCompletionRequest | CompletionRequest): RunChoice {
  return (p, o) =>
    run(p, o).catch((err: unknown) => {
      if (!isServiceError(err) || err.param === null) throw err;
      throw new ServiceError(err.code, err.message, { param: toOpenAIParam(err.param, body), headers: err.headers });
    });
}

function logUser(req: FastifyRequest, user: string | undefined): void {
  if (user !== undefined) req.log.info({ user }, 'openai request user');
}

export const openaiRoutes: FastifyPluginAsync = async (app) => {
  const { inference, cache, store, config } = app.services;
  const limits = { maxNewTokens: config.maxNewTokens };
  // null = absent, and unsupported fields are refused by name, before the schema sees the body.
  app.addHook('preValidation', async (req) => {
    if (req.method === 'POST') req.body = prepareBody(req.body);
  });

  app.get('/models', { config: { scope: 'infer' }, schema: { tags: ['openai'], summary: 'OpenAI: list the models /v1 can serve (language and Seq2Seq models)', response: { 200: OpenAIModelList } } }, async () => ({
    object: 'list' as const,
    data: (await store.list()).filter((m) => m.task !== 'classify').map((m) => ({ id: m.name, object: 'model' as const, created: Math.floor(Date.parse(m.created_at) / 1000), owned_by: 'seqserve' })),
  }));

  app.get<{ Params: { id: string } }>(
    '/models/:id',
    { config: { scope: 'infer' }, schema: { tags: ['openai'], summary: 'OpenAI: one model (`name` or `name@version`)', params: OpenAIModelParams, response: { 200: OpenAIModel, ...errors } } },
    async (req) => {
      const m = await resolveModel(cache, req.params.id, 'id');
      if (m.task === 'classify') throw new ServiceError('model_not_found', `id: ${m.ref} is a classifier; /v1 serves language and Seq2Seq models (use POST /classify)`, { param: 'id' });
      return { id: req.params.id, object: 'model' as const, created: Math.floor(Date.parse(m.createdAt) / 1000), owned_by: 'seqserve' };
    },
  );

  app.post<{ Body: CompletionRequest }>(
    '/completions',
    {
      config: { scope: 'infer' },
      schema: {
        tags: ['openai'],
        summary: 'OpenAI: complete a prompt (language models; a Seq2Seq model takes the prompt as its input text)',
        description: 'OpenAI\'s legacy completions. With "stream": true, `data:` chunks then `data: [DONE]`. Unsupported OpenAI fields are refused with 400 unsupported_parameter naming the field (docs/openai.md).',
        body: CompletionRequest,
        response: { 200: Completion, ...errors },
      },
    },
    async (req, reply) => {
      const body = req.body;
      logUser(req, body.user);
      const prompt = completionPrompt(body.prompt);
      const m = await resolveModel(cache, body.model);
      const seq2seq = SEQ2SEQ.includes(m.task);
      if (!seq2seq && m.task !== 'generate') {
        throw new ServiceError('model_task_mismatch', `model: ${m.ref} is a ${m.task} model; /v1/completions serves language models (generate) and Seq2Seq models (summarize, translate, qa)${m.task === 'classify' ? '' : '; use /v1/chat/completions'}`, { param: 'model' });
      }
      const plan = planGeneration(body, limits, { seq2seq });
      const run: RunChoice = seq2seq
        ? (parameters, o) => inference.seq2seq(m.task as 'summarize' | 'translate' | 'qa', { model: m.ref, source: prompt, parameters }, o)
        : (parameters, o) => inference.generate({ model: m.ref, prompt, parameters }, o);
      return respondOpenAI(req, reply, { kind: 'completion', plan, env: newEnvelope('completion', m.ref), promptChars: seq2seq ? 0 : prompt.length, run: withOpenAIParams(run, body) });
    },
  );

  app.post<{ Body: ChatCompletionRequest }>(
    '/chat/completions',
    {
      config: { scope: 'infer' },
      schema: {
        tags: ['openai'],
        summary: 'OpenAI: the assistant\'s next turn for a conversation (chat models)',
        description: 'Messages (system, developer, user, assistant; text content or text parts) are rendered with the model\'s chat template. With "stream": true, `data:` chunks then `data: [DONE]`. Unsupported OpenAI fields are refused with 400 unsupported_parameter naming the field (docs/openai.md).',
        body: ChatCompletionRequest,
        response: { 200: ChatCompletion, ...errors },
      },
    },
    async (req, reply) => {
      const body = req.body;
      logUser(req, body.user);
      const messages = toChatMessages(body.messages);
      const plan = planGeneration(body, limits);
      const m = await resolveModel(cache, body.model);
      const run: RunChoice = (parameters, o) => inference.chat({ model: m.ref, messages, parameters }, o);
      return respondOpenAI(req, reply, { kind: 'chat', plan, env: newEnvelope('chat', m.ref), promptChars: 0, run: withOpenAIParams(run, body) });
    },
  );
};
