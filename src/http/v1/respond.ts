/**
 * Runs an OpenAI request's `n` choices and answers JSON or OpenAI-style Server-Sent Events.
 *
 * Choices: each is an independent service request (choice i with seed + i), so all of them are rows
 * of the model's continuous batch; if one fails, the others are cancelled (their rows freed) before
 * the error is answered. Streaming opens only once every choice was admitted and its model loaded,
 * so admission (429 overloaded with Retry-After) and model errors still get a real status; after
 * that an error is a `data: {"error": …}` event, then `data: [DONE]`. A client that disconnects
 * cancels every choice at once (the batcher drops their rows at its next step).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isServiceError, ServiceError } from '../../errors.ts';
import type { GenerateOptions, GenerationResult, TokenEvent } from '../../infer/generate.ts';
import type { GenerationParameters } from '../../schemas/common.ts';
import type { GenerationPlan } from './mapping.ts';
import { writeSseHead } from '../sse.ts';
import { ChunkWriter, chatCompletion, textCompletion, type ChoiceResult, type Envelope, type Kind } from './responses.ts';

/** Runs one choice through the service. */
export type RunChoice = (parameters: GenerationParameters, opts: GenerateOptions & { onStart?: () => void }) => Promise<GenerationResult>;

/**
 * Starts `n` runs sharing one cancellation: `signal` aborting, or any run failing, aborts all.
 * Resolves with the results in order once all have finished; `onDone` fires per run as it ends.
 */
export async function runChoices<R>(n: number, start: (i: number, signal: AbortSignal) => Promise<R>, signal: AbortSignal, onDone?: (i: number, r: R) => void): Promise<R[]> {
  const controllers = Array.from({ length: n }, () => new AbortController());
  const abortAll = () => controllers.forEach((c) => c.abort());
  signal.addEventListener('abort', abortAll, { once: true });
  const runs = controllers.map((c, i) =>
    start(i, c.signal).then((r) => {
      onDone?.(i, r);
      return r;
    }),
  );
  try {
    return await Promise.all(runs);
  } catch (err) {
    abortAll();
    await Promise.allSettled(runs);
    throw err;
  } finally {
    signal.removeEventListener('abort', abortAll);
  }
}

/** OpenAI-style SSE: bare `data:` lines (no event names) and a closing `data: [DONE]`. */
function openSse(reply: FastifyReply) {
  writeSseHead(reply);
  const open = () => !reply.raw.writableEnded && !reply.raw.destroyed;
  return {
    send(data: object): void {
      if (open()) reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
    },
    /** `data: [DONE]`, then the response ends. */
    done(): void {
      if (open()) reply.raw.end('data: [DONE]\n\n');
    },
  };
}

/** The client went away (its choices are already cancelled): nothing to answer; close the connection. */
function hangUp(reply: FastifyReply): FastifyReply {
  reply.hijack();
  reply.raw.destroy();
  return reply;
}

export interface OpenAIRun {
  kind: Kind;
  plan: GenerationPlan;
  env: Envelope;
  /** Completions text_offset starts after the prompt. */
  promptChars: number;
  run: RunChoice;
}

export async function respondOpenAI(req: FastifyRequest, reply: FastifyReply, o: OpenAIRun): Promise<object | FastifyReply> {
  const { plan, kind } = o;
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const keepEvents = plan.logprobs !== null;
  const paramsOf = (i: number): GenerationParameters => ({ ...plan.parameters, seed: plan.seedOf(i) });

  if (!plan.stream) {
    const events: TokenEvent[][] = Array.from({ length: plan.n }, () => []);
    const results = await runChoices(plan.n, (i, signal) => o.run(paramsOf(i), { signal, onToken: keepEvents ? (e) => events[i]!.push(e) : undefined }), abort.signal);
    if (abort.signal.aborted) return hangUp(reply);
    const choices: ChoiceResult[] = results.map((result, i) => ({ result, events: events[i]! }));
    return kind === 'chat' ? chatCompletion(o.env, choices, keepEvents) : textCompletion(o.env, choices, keepEvents, o.promptChars);
  }

  const writer = new ChunkWriter(kind, o.env, plan.n, { logprobs: keepEvents, includeUsage: plan.includeUsage, promptChars: o.promptChars });
  let sse: ReturnType<typeof openSse> | undefined;
  const early: object[] = []; // chunks produced before every choice started
  const send = (chunk: object | undefined) => {
    if (!chunk) return;
    if (sse) sse.send(chunk);
    else early.push(chunk);
  };
  let started = 0;
  const open = () => {
    sse = openSse(reply);
    if (kind === 'chat') for (let i = 0; i < plan.n; i++) sse.send(writer.role(i));
    early.splice(0).forEach((c) => sse!.send(c));
  };
  const onStart = () => {
    if (++started === plan.n) open();
  };
  try {
    const results = await runChoices(
      plan.n,
      (i, signal) => o.run(paramsOf(i), { signal, onStart, onToken: (e) => send(writer.token(i, e)) }),
      abort.signal,
      (i, result) => send(writer.finish(i, result)),
    );
    if (!sse) open(); // (a run that ended without starting: nothing was generated)
    if (plan.includeUsage) send(writer.usage(results));
  } catch (err) {
    if (!sse) throw err; // nothing sent yet: a normal status code
    const svc = isServiceError(err) ? err : new ServiceError('internal_error', 'request failed');
    if (!isServiceError(err)) req.log.error({ err }, 'request failed mid-stream');
    sse.send(svc.toBody());
  }
  sse?.done();
  return reply;
}
