/**
 * The decoder-only generate path: the sequence joins the model's StepBatcher, which prefills its
 * prompt (with the other arrivals of the same step, in one fused pass), then feeds the rest of it and
 * its generated tokens one recurrent step per id, batched with every other running sequence of that
 * model. Stops at <eos>, a stop sequence, max_new_tokens or abort. Every
 * tensor created for the request is disposed by the time it returns, whatever the outcome.
 */
import type { SamplingParams } from '../decode/params.ts';
import { ServiceError } from '../errors.ts';
import { TransformerLM } from '../arch/transformer.ts';
import type { LanguageModelEntry } from './model-cache.ts';
import { Sequence, type GenerateOptions, type GenerationResult } from './sequence.ts';

/** Positions a prompt may use: a Transformer's context_length; Infinity for a recurrent model. */
export function contextOf(model: LanguageModelEntry): number {
  return model.lm instanceof TransformerLM ? model.lm.contextLength : Infinity;
}

/**
 * Refuses (400, naming `field`) a prompt of `ids` ids that does not fit the model's context: a
 * Transformer reads at most context_length positions, prompt included (DESIGN.md "Decoding").
 */
export function checkContext(model: LanguageModelEntry, ids: number, field: string): void {
  const n = contextOf(model);
  if (ids > n) {
    throw new ServiceError('invalid_parameter', `${field}: ${ids} tokens (with <bos>${field === 'prompt' ? '' : ' and the chat template'}) do not fit the context of ${model.ref}: context_length ${n}; shorten it`, { param: field });
  }
}

/** Prompt ids of a plain-text prompt (<bos> + tokens), as the Sequence builds them. */
export const promptIdCount = (model: LanguageModelEntry, prompt: string): number => 1 + model.tokenizer.encode(prompt).length;

export type { FinishReason, GenerateOptions, GenerationResult, TokenEvent } from './sequence.ts';

export async function generateText(model: LanguageModelEntry, prompt: string, params: SamplingParams, opts: GenerateOptions = {}): Promise<GenerationResult> {
  const seq = new Sequence(model.tokenizer, model.ref, prompt, params, opts);
  checkContext(model, seq.inputIds.length, 'prompt');
  seq.limitPositions(contextOf(model));
  if (seq.done) return seq.result();
  // A cancel ends the sequence at once; the batcher drops its row at the next step.
  const onAbort = () => seq.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await model.batcher.run(seq);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return seq.result();
}
