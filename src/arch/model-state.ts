/**
 * A language model's per-row state as serving keeps it (the continuous batcher's rows, chat
 * sessions): a recurrent model's (h, c) per layer, or a Transformer's KV cache.
 */
import { disposeState, type RecurrentState } from './lm-step.ts';
import { disposeKv, kvBytes, type KvState } from './transformer.ts';

export type ModelState = RecurrentState | KvState;

export const isKvState = (s: ModelState): s is KvState => 'k' in s;

export function disposeModelState(s: ModelState): void {
  if (isKvState(s)) disposeKv(s);
  else disposeState(s);
}

/** Bytes of tensor memory a state holds (float32). */
export function modelStateBytes(s: ModelState): number {
  return isKvState(s) ? kvBytes(s) : [...s.h, ...s.c].reduce((n, t) => n + t.size * 4, 0);
}
