/**
 * chrF (Popović 2015): character n-gram F-score, β = 2 (recall weighs 4× precision), n = 1…6,
 * whitespace removed — the sacreBLEU 2.x `CHRF()` default, to which it is tested equal
 * (test/unit/chrf.test.ts). Corpus level: the hypothesis / reference / match counts of every order are
 * summed over all sentences, precision and recall are averaged over the orders that occur on both
 * sides (sacreBLEU's effective order), then F_β. Characters are Unicode code points, so CJK text needs
 * no segmentation. Returns a fraction in [0, 1] (sacreBLEU prints ×100). Unlike BLEU-4 it gives credit
 * for partly right words and short outputs, so it still moves where corpus BLEU reads 0.
 */

const ORDER = 6;
const BETA = 2;

/** Counts of each character n-gram (n = 1…ORDER) of a text without whitespace. */
function charNgrams(text: string): Map<string, number>[] {
  const chars = Array.from(text.replace(/\s+/gu, ''));
  return Array.from({ length: ORDER }, (_, k) => {
    const n = k + 1;
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const g = chars.slice(i, i + n).join('');
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    return counts;
  });
}

/** Corpus chrF of predictions against one reference each, in [0, 1]. */
export function corpusChrf(predictions: readonly string[], references: readonly string[]): number {
  const hyp = new Float64Array(ORDER);
  const ref = new Float64Array(ORDER);
  const match = new Float64Array(ORDER);
  predictions.forEach((p, i) => {
    const h = charNgrams(p);
    const r = charNgrams(references[i] ?? '');
    for (let k = 0; k < ORDER; k++) {
      for (const [g, c] of h[k]!) {
        hyp[k] += c;
        match[k] += Math.min(c, r[k]!.get(g) ?? 0);
      }
      for (const c of r[k]!.values()) ref[k] += c;
    }
  });
  let precision = 0;
  let recall = 0;
  let orders = 0;
  for (let k = 0; k < ORDER; k++) {
    if (hyp[k]! > 0 && ref[k]! > 0) {
      precision += match[k]! / hyp[k]!;
      recall += match[k]! / ref[k]!;
      orders++;
    }
  }
  if (orders === 0) return 0;
  precision /= orders;
  recall /= orders;
  if (precision + recall === 0) return 0;
  const f = BETA * BETA;
  return ((1 + f) * precision * recall) / (f * precision + recall);
}
