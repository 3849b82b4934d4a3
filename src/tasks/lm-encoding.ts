/**
 * Text records → one language-model id stream, shared by training (train/lm-data.ts cuts it into
 * windows) and evaluation (infer/evaluate.ts scores it).
 *
 * Each record is `<bos> tokens…`; records after the first are preceded by `<eos>` (so the model
 * learns where records end).
 */
import { BOS_ID, EOS_ID, type Tokenizer } from '../tokenize/index.ts';

export function encodeCorpus(records: readonly string[], tokenizer: Tokenizer): Int32Array {
  const out: number[] = [];
  records.forEach((text, i) => {
    if (i > 0) out.push(EOS_ID);
    out.push(BOS_ID);
    for (const id of tokenizer.encode(text)) out.push(id);
  });
  return Int32Array.from(out);
}
