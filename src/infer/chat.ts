/**
 * One chat turn on a chat language model: the conversation is rendered with the model's chat
 * template (tasks/chat-template.ts) into `<bos> … <|assistant|>` and the reply is generated through
 * the model's StepBatcher exactly like `generate` (continuous batching, own seeded sampler), ending
 * at `<|end|>` (any role marker) or <eos>.
 *
 * With a kept state (a session's, infer/sessions.ts) whose ids are a prefix of this turn's rendered
 * ids and that the same model version computed, only the ids after that prefix are fed, starting
 * from the kept state; the result is the same as re-reading the whole history (same ids, same
 * sampler, same seed). Otherwise the whole history is read. `onKeep` receives the state after the
 * turn (owned by the receiver) and the ids it covers: the prompt plus the reply's tokens, but not
 * the `<|end|>` that ended it (the next turn's render feeds it).
 */
import type { SamplingParams } from '../decode/params.ts';
import type { ChatModelEntry } from './model-cache.ts';
import type { TemplateMessage } from '../tasks/chat-template.ts';
import { Sequence, type GenerateOptions, type GenerationResult } from './sequence.ts';
import type { KeptState } from './sessions.ts';
import { checkContext, contextOf } from './generate.ts';

export interface ChatTurnResult extends GenerationResult {
  /** Prompt tokens served from the kept state (not run again). */
  cachedTokens: number;
}

/** True when `prefix` is a proper prefix of `ids`. */
function isProperPrefix(prefix: readonly number[], ids: readonly number[]): boolean {
  if (prefix.length === 0 || prefix.length >= ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== ids[i]) return false;
  return true;
}

export async function chatTurn(
  model: ChatModelEntry,
  messages: readonly TemplateMessage[],
  params: SamplingParams,
  opts: GenerateOptions = {},
  session: { kept?: KeptState; onKeep?: (kept: KeptState) => void } = {},
): Promise<ChatTurnResult> {
  const ids = model.chat.renderPrompt(messages);
  const kept = session.kept && session.kept.ref === model.ref && isProperPrefix(session.kept.ids, ids) ? session.kept : undefined;
  const fedBefore = kept ? kept.ids : [];
  const seq = new Sequence(model.chat, model.ref, { ids: ids.slice(fedBefore.length), context: ids, endIds: model.chat.markerIds }, params, opts);
  checkContext(model, ids.length, 'messages');
  seq.limitPositions(contextOf(model) - fedBefore.length);
  if (seq.done) return { ...seq.result(), cachedTokens: fedBefore.length };
  const onAbort = () => seq.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await model.batcher.run(seq, {
      start: kept?.state,
      keepState: session.onKeep ? (state) => session.onKeep!({ ref: model.ref, ids: [...fedBefore, ...seq.fedIds], state }) : undefined,
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { ...seq.result(), cachedTokens: fedBefore.length };
}
