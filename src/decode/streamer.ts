/**
 * Turns the texts of generated tokens into chunks that are safe to send to a client: every chunk
 * is well-formed UTF-16 (so it encodes to whole UTF-8 characters — never half an emoji or CJK
 * character) and stop sequences are cut out (see StopSequenceMatcher).
 *
 * A token text may end in the high half of a surrogate pair (code-unit-level vocabularies); that
 * half is held until the next push completes it. A token may also be raw UTF-8 bytes (the
 * byte-fallback tokens of BPE, pushed as a Uint8Array): bytes are held until they complete a
 * character. At end(), at a stop, or when text arrives while a character's bytes are incomplete,
 * what never got completed becomes U+FFFD, as TextDecoder does (one per maximal invalid subpart).
 */
import { StopSequenceMatcher } from './stop.ts';

export interface StreamChunk {
  /** Text to send now; may be ''. */
  text: string;
  /** True once a stop sequence matched: generation should end, later pushes return ''. */
  stopped: boolean;
}

/** Replaces every unpaired surrogate with U+FFFD. */
export function toWellFormed(text: string): string {
  return text.toWellFormed();
}

function endsWithHighSurrogate(text: string): boolean {
  const c = text.charCodeAt(text.length - 1);
  return c >= 0xd800 && c <= 0xdbff;
}

export class TextStreamer {
  private readonly matcher: StopSequenceMatcher;
  /** A trailing high surrogate waiting for its low half. */
  private held = '';
  /** Open while the last pieces were bytes: holds an incomplete character's bytes. */
  private bytes: InstanceType<typeof TextDecoder> | null = null;

  constructor(stops: readonly string[] = []) {
    this.matcher = new StopSequenceMatcher(stops);
  }

  get stopped(): boolean {
    return this.matcher.stopped;
  }

  /** The stop sequence that ended generation, or null. */
  get matchedStop(): string | null {
    return this.matcher.matched;
  }

  /** Appends one token's text, or its bytes (see Tokenizer.tokenPiece). */
  push(piece: string | Uint8Array): StreamChunk {
    if (this.matcher.stopped) return { text: '', stopped: true };
    let tokenText: string;
    if (typeof piece === 'string') {
      tokenText = this.closeBytes() + piece;
    } else {
      this.bytes ??= new TextDecoder('utf-8', { ignoreBOM: true });
      tokenText = this.bytes.decode(piece, { stream: true });
    }
    const { emit, stopped } = this.matcher.push(tokenText);
    let text = this.held + emit;
    this.held = '';
    if (!stopped && endsWithHighSurrogate(text)) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return { text: toWellFormed(text), stopped };
  }

  /** End of generation: the remaining held-back text ('' after a stop). */
  end(): string {
    const tail = this.closeBytes();
    const last = tail && !this.matcher.stopped ? this.matcher.push(tail).emit : '';
    const rest = this.held + last + this.matcher.flush();
    this.held = '';
    return toWellFormed(rest);
  }

  /** Ends a run of byte pieces: the incomplete character it may hold, as U+FFFD, or ''. */
  private closeBytes(): string {
    if (!this.bytes) return '';
    const rest = this.bytes.decode();
    this.bytes = null;
    return rest;
  }
}
