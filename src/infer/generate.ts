/**
 * The decoder-only generate path: prefill the prompt once (batch 1), then hand the sequence to the
 * model's StepBatcher, which advances it together with every other running sequence of that model,
 * one recurrent step per token. Stops at <eos>, a stop sequence, max_new_tokens or abort. Every
 * tensor created for the request is disposed by the time it returns, whatever the outcome.
 */
import { disposeState } from '../arch/lm-step.ts';
import type { SamplingParams } from '../decode/params.ts';
import type { LoadedModel } from './model-cache.ts';
import { Sequence, type GenerateOptions, type GenerationResult } from './sequence.ts';

export type { FinishReason, GenerateOptions, GenerationResult, TokenEvent } from './sequence.ts';

export async function generateText(model: LoadedModel, prompt: string, params: SamplingParams, opts: GenerateOptions = {}): Promise<GenerationResult> {
  const seq = new Sequence(model.tokenizer, model.ref, prompt, params, opts);
  if (seq.done) return seq.result();
  const { state, logits } = await model.lm.prefill(seq.inputIds);
  let row: Float32Array;
  try {
    row = (await logits.data()) as Float32Array;
  } catch (err) {
    disposeState(state);
    throw err;
  } finally {
    logits.dispose();
  }
  if (!seq.accept(row)) {
    disposeState(state);
    return seq.result();
  }
  // A cancel while waiting for the batch: the batcher drops the row at its next step.
  const onAbort = () => seq.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await model.batcher.run(seq, state);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return seq.result();
}
