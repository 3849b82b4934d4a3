/**
 * The decoder-only generate loop: prefill the prompt once, then one recurrent step per token.
 * Emits token events whose texts concatenate to the final text (held-back stop-sequence prefixes
 * are released on the next token or at the end), yields to the event loop between steps so
 * concurrent streams interleave, and stops at <eos>, a stop sequence, max_new_tokens or abort.
 * Every tensor it creates is disposed before it returns, whatever the outcome.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { disposeState } from '../arch/lm-step.ts';
import { createSampler } from '../decode/sampler.ts';
import { TextStreamer } from '../decode/streamer.ts';
import type { SamplingParams } from '../decode/params.ts';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID } from '../tokenize/index.ts';
import type { LoadedModel } from './model-cache.ts';

export type FinishReason = 'length' | 'eos' | 'stop_sequence' | 'cancelled';

export interface TokenEvent {
  index: number;
  text: string;
  token_id: number;
  logprob: number;
}

export interface GenerationResult {
  text: string;
  details: {
    finish_reason: FinishReason;
    generated_tokens: number;
    input_tokens: number;
    seed: number;
    elapsed_ms: number;
    model: string;
  };
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onToken?: (event: TokenEvent) => void;
}

export async function generateText(model: LoadedModel, prompt: string, params: SamplingParams, opts: GenerateOptions = {}): Promise<GenerationResult> {
  const started = performance.now();
  const inputIds = [BOS_ID, ...model.tokenizer.encode(prompt)];
  const sampler = createSampler(params, { bannedIds: [PAD_ID, BOS_ID, UNK_ID] });
  const streamer = new TextStreamer(params.stop);
  const history = inputIds.slice(1);
  let text = '';
  let generated = 0;
  let finish: FinishReason = 'length';
  let pending: TokenEvent | undefined;
  const emit = (e: TokenEvent) => {
    text += e.text;
    opts.onToken?.(e);
  };

  let { state, logits } = await model.lm.prefill(inputIds);
  try {
    while (generated < params.max_new_tokens) {
      if (opts.signal?.aborted) {
        finish = 'cancelled';
        break;
      }
      const row = (await logits.data()) as Float32Array;
      const { id, logprob } = sampler.next(row, history);
      if (id === EOS_ID) {
        finish = 'eos';
        break;
      }
      generated++;
      history.push(id);
      const chunk = streamer.push(model.tokenizer.tokenText(id));
      if (pending) emit(pending);
      pending = { index: generated - 1, text: chunk.text, token_id: id, logprob };
      if (chunk.stopped) {
        finish = 'stop_sequence';
        break;
      }
      if (generated >= params.max_new_tokens) break;
      const next = model.lm.step(Int32Array.of(id), state);
      disposeState(state);
      logits.dispose();
      ({ state, logits } = next);
      await yieldToEventLoop();
    }
  } finally {
    disposeState(state);
    logits.dispose();
  }
  if (finish !== 'stop_sequence' && finish !== 'cancelled') {
    const tail = streamer.end();
    if (pending) pending.text += tail;
  }
  if (pending) emit(pending);
  return {
    text,
    details: {
      finish_reason: finish,
      generated_tokens: generated,
      input_tokens: inputIds.length,
      seed: params.seed,
      elapsed_ms: Math.round((performance.now() - started) * 100) / 100,
      model: model.ref,
    },
  };
}
