/**
 * The chat template: how a conversation becomes token ids, shared by training (train/train-chat.ts)
 * and serving (infer/chat.ts). It is stored in the model's manifest (`chat_template`), so a model is
 * always served with the template it was trained with.
 *
 * Role markers are reserved special tokens appended AFTER the base tokenizer's vocabulary (ids
 * V, V+1, V+2, V+3 for a base vocabulary of V ids): `<|system|>`, `<|user|>`, `<|assistant|>`,
 * `<|end|>`. Appending (rather than inserting after the 4 specials) keeps every tokenizer type's own
 * id layout — char, word, and byte-fallback BPE whose byte tokens sit at ids 4..259 — and its saved
 * `tokenizer.json` unchanged. User text never encodes to a marker: the base tokenizer has no such
 * piece, so "<|end|>" typed by a user is ordinary text.
 *
 * Rendering (ids):
 *   <bos> (<|role|> content-ids <|end|>)*            — the conversation so far
 *   … <|assistant|>                                   — the prompt for the reply
 * The model's reply ends when it samples `<|end|>` (or any other marker, or <eos>).
 * `developer` messages render as `system`. Training counts the loss on assistant content and its
 * `<|end|>` only (`renderForTraining` returns the per-target weights).
 */
import { BOS_ID, type Tokenizer, type TokenizerJSON } from '../tokenize/index.ts';

export const CHAT_MARKERS = ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>'] as const;
export type TemplateRole = 'system' | 'user' | 'assistant';

export interface TemplateMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
}

/** What the manifest stores under `chat_template`. */
export interface ChatTemplateSpec {
  version: 1;
  /** The markers' strings, in id order. */
  markers: readonly string[];
  /** Id of the first marker (= the base tokenizer's vocabulary size). */
  first_marker_id: number;
  /** Human-readable form of the rendering. */
  format: string;
}

export const TEMPLATE_FORMAT = '<bos> then, per message, <|system|>|<|user|>|<|assistant|> content <|end|>; the reply is generated after <|assistant|> until <|end|>';

export function chatTemplateSpec(baseVocabSize: number): ChatTemplateSpec {
  return { version: 1, markers: [...CHAT_MARKERS], first_marker_id: baseVocabSize, format: TEMPLATE_FORMAT };
}

/** Reads and checks a manifest's `chat_template` (a plain Error for a corrupt one: a server fault). */
export function parseChatTemplateSpec(value: unknown, baseVocabSize: number): ChatTemplateSpec {
  const v = value as Partial<ChatTemplateSpec> | undefined;
  if (!v || v.version !== 1 || !Array.isArray(v.markers) || v.markers.join() !== CHAT_MARKERS.join() || v.first_marker_id !== baseVocabSize) {
    throw new Error(`manifest chat_template: expected version 1 with markers ${CHAT_MARKERS.join(' ')} from id ${baseVocabSize}`);
  }
  return v as ChatTemplateSpec;
}

/**
 * A tokenizer with the chat markers appended: vocabSize = base + 4. Encoding is the base's (text
 * never yields a marker); marker ids have no text, like the other specials.
 */
export class ChatTokenizer implements Tokenizer {
  readonly type: Tokenizer['type'];
  readonly vocabSize: number;
  readonly system: number;
  readonly user: number;
  readonly assistant: number;
  readonly end: number;

  constructor(readonly base: Tokenizer) {
    this.type = base.type;
    const v = base.vocabSize;
    this.vocabSize = v + CHAT_MARKERS.length;
    [this.system, this.user, this.assistant, this.end] = [v, v + 1, v + 2, v + 3];
  }

  /** Every marker id (a reply ends when one is sampled). */
  get markerIds(): number[] {
    return [this.system, this.user, this.assistant, this.end];
  }

  isMarker(id: number): boolean {
    return id >= this.base.vocabSize && id < this.vocabSize;
  }

  encode(text: string): number[] {
    return this.base.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.base.decode(ids.filter((id) => !this.isMarker(id)));
  }

  tokenText(id: number): string {
    if (this.isMarker(id)) return '';
    return this.base.tokenText(id);
  }

  /** The base's piece (a BPE byte token streams as its byte); a marker is no bytes, as in decode. */
  tokenPiece(id: number): string | Uint8Array {
    if (this.isMarker(id)) return new Uint8Array(0);
    return this.base.tokenPiece(id);
  }

  /** The file is the base tokenizer's: markers live in the manifest's chat_template. */
  toJSON(): TokenizerJSON {
    return this.base.toJSON();
  }

  roleMarker(role: TemplateMessage['role']): number {
    return role === 'user' ? this.user : role === 'assistant' ? this.assistant : this.system;
  }

  /** One message: <|role|> content <|end|>. */
  renderMessage(m: TemplateMessage, out: number[] = []): number[] {
    out.push(this.roleMarker(m.role));
    for (const id of this.encode(m.content)) out.push(id);
    out.push(this.end);
    return out;
  }

  /** The ids a reply is generated from: <bos>, every message, then <|assistant|>. */
  renderPrompt(messages: readonly TemplateMessage[]): number[] {
    const out = [BOS_ID];
    for (const m of messages) this.renderMessage(m, out);
    out.push(this.assistant);
    return out;
  }

  /**
   * A whole conversation for training: ids = <bos> + every message; `weights[i]` is 1 when ids[i]
   * is a target the loss counts (assistant content and its <|end|>), else 0. The first id never
   * counts (nothing predicts it).
   */
  renderForTraining(messages: readonly TemplateMessage[]): { ids: number[]; weights: number[] } {
    const ids = [BOS_ID];
    const weights = [0];
    for (const m of messages) {
      const start = ids.length;
      this.renderMessage(m, ids);
      const counts = m.role === 'assistant' ? 1 : 0;
      for (let i = start; i < ids.length; i++) weights.push(i === start ? 0 : counts); // the role marker itself is given
    }
    return { ids, weights };
  }
}
