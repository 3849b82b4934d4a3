/**
 * The text conventions of the BPE tokenizer, shared by training (bpe-train.ts) and encoding
 * (bpe.ts), and mirrored by the Hugging Face tokenizer.json it saves:
 *
 * - Normalisation: every space U+0020 becomes "▁" (U+2581, SentencePiece's metaspace); nothing else
 *   changes (no Unicode normalisation, no prepended space: decode(encode(t)) === t exactly, except
 *   that a literal "▁" in the input decodes as a space).
 * - Segments: the normalised text is cut into maximal runs of one of three kinds:
 *     "▁"* then non-whitespace   a word with the spaces before it:  "▁the", "▁▁x", "中文", "."
 *     "▁"+                        spaces before other whitespace or the end
 *     other whitespace            "\n", "\n\n", "\t"
 *   Merges are learned inside segments only. A pair that straddles a segment boundary — (x, "▁…")
 *   with x not ending in "▁", or any pair across a whitespace/non-whitespace border — therefore
 *   never has a merge, so running BPE over the whole normalised text (what Hugging Face does with
 *   no pre-tokenizer) gives exactly the per-segment result. The saved file needs no regex, and
 *   Rust and JS readers agree.
 * - Byte fallback: a character outside the alphabet is written as the UTF-8 bytes of that
 *   character, one token "<0xNN>" per byte; these never take part in merges.
 */

export const METASPACE = '\u2581';

/** "<0x00>" … "<0xFF>": the byte-fallback tokens, ids 4..259 in every BPE vocabulary. */
export const BYTE_TOKENS: readonly string[] = Array.from({ length: 256 }, (_, b) => byteToken(b));

export function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Specials and byte tokens: no merge may produce one of these strings. */
export const RESERVED_PIECES: ReadonlySet<string> = new Set(['<pad>', '<bos>', '<eos>', '<unk>', ...BYTE_TOKENS]);

/** The byte a "<0xNN>" token stands for, or undefined for any other piece. */
export function parseByteToken(piece: string): number | undefined {
  const m = /^<0x([0-9A-F]{2})>$/.exec(piece);
  return m ? parseInt(m[1], 16) : undefined;
}

export function normalizeText(text: string): string {
  return text.replaceAll(' ', METASPACE);
}

const SEGMENT = /▁*[^▁\s]+|▁+|\s+/gu;

/** The segments of the normalised `text`, in order; their concatenation is normalizeText(text). */
export function segmentText(text: string): string[] {
  return normalizeText(text).match(SEGMENT) ?? [];
}
