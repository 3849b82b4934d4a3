/**
 * Turns the texts of generated tokens into chunks that are safe to send to a client: every chunk
 * is well-formed UTF-16 (so it encodes to whole UTF-8 characters — never half an emoji or CJK
 * character) and stop sequences are cut out (see StopSequenceMatcher).
 *
 * A token text may end in the high half of a surrogate pair (byte- or code-unit-level vocabularies);
 * that half is held until the next push completes it. At end() or at a stop, a half that never got
 * its partner, and any other unpaired surrogate, becomes U+FFFD, as TextDecoder does.
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

  push(tokenText: string): StreamChunk {
    if (this.matcher.stopped) return { text: '', stopped: true };
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
    const rest = this.held + this.matcher.flush();
    this.held = '';
    return toWellFormed(rest);
  }
}
