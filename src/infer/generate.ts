/**
 * The decoder-only generate path: the sequence joins the model's StepBatcher, which prefills its
 * prompt (with the other arrivals of the same step, in one fused pass), then feeds the rest of it and
 * its generated tokens one recurrent step per id, batched with every other running sequence of that
 * model. Stops at <eos>, a stop sequence, max_new_tokens or abort. Every
 * tensor created for the request is disposed by the time it returns, whatever the outcome.
 */
import type { SamplingParams } from '../decode/params.ts';
import type { LanguageModelEntry } from './model-cache.ts';
import { Sequence, type GenerateOptions, type GenerationResult } from './sequence.ts';

export type { FinishReason, GenerateOptions, GenerationResult, TokenEvent } from './sequence.ts';

export async function generateText(model: LanguageModelEntry, prompt: string, params: SamplingParams, opts: GenerateOptions = {}): Promise<GenerationResult> {
  const seq = new Sequence(model.tokenizer, model.ref, prompt, params, opts);
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
