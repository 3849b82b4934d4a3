/**
 * A retrieval index over training sources: the nearest training example of a text, by IDF-weighted
 * Dice overlap of character bigrams. Shared by training (the retrieval baseline; the nearest OTHER
 * training example of each row for retrieval-augmented Seq2Seq) and serving (the nearest training
 * example of a request's source, from the `retrieval.json` stored with the model version).
 *
 * Features: the text is NFC-normalised, lowercased and its whitespace runs collapsed to one space;
 * then each pair of adjacent code points (with a space added at both ends, so one-character words
 * count) is a feature. Code points, not UTF-16 units, so CJK and astral characters are safe.
 * A text's feature SET is used (repeats count once).
 *
 * Similarity of a query q and a row d: weighted Dice
 *   sim(q, d) = 2 Σ_{b ∈ q ∩ d} w_b / (Σ_{b ∈ q} w_b + Σ_{b ∈ d} w_b),   w_b = ln((N + 1) / df_b)
 * where N is the number of rows and df_b the rows containing b (a bigram no row has weighs
 * ln(N + 1), the most). sim is in [0, 1], 1 for identical feature sets. Bigrams in more than half of
 * the rows (when N ≥ 20) weigh 0: they say little and their postings would dominate the cost.
 * Ties go to the lowest row index, so results are deterministic.
 *
 * Cost: an inverted index (bigram → row ids); a query touches only the postings of its own bigrams.
 * Build is O(total characters); the serialized form keeps only the texts and rebuilds on load.
 */

export interface Neighbour {
  /** Row index in the index. */
  index: number;
  /** Weighted Dice similarity in [0, 1]. */
  score: number;
}

/** The file stored beside a model version (MAX_INDEX_BYTES at most). */
export interface RetrievalJson {
  format: 'seqserve-retrieval';
  version: 1;
  features: 'char-bigram-idf-dice';
  sources: string[];
  targets: string[];
  /** Rows offered to the index before the size bound dropped any. */
  rows_total: number;
}

export const RETRIEVAL_FILE = 'retrieval.json';
/** Characters of a source kept for matching (a long document is matched on its beginning). */
export const MAX_KEY_CHARS = 1000;
/** Characters of a target kept (what retrieval returns). */
export const MAX_VALUE_CHARS = 2000;
/** Size bound of the stored index (UTF-8 bytes of the texts, approximately). */
export const MAX_INDEX_BYTES = 16 * 1024 * 1024;

/** The feature set of a text (see the header). */
export function bigramFeatures(text: string): Set<string> {
  const norm = text.normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
  const cps = Array.from(` ${norm} `);
  const out = new Set<string>();
  if (norm.length === 0) return out;
  for (let i = 0; i + 1 < cps.length; i++) out.add(cps[i]! + cps[i + 1]!);
  return out;
}

const clip = (s: string, n: number) => (s.length <= n ? s : Array.from(s).slice(0, n).join(''));

export class RetrievalIndex {
  /** Bigram → feature id; postings[id] = the rows containing it (ascending), weight[id] = w_b. */
  private readonly ids = new Map<string, number>();
  private postings: Int32Array[] = [];
  private weight = new Float64Array(0);
  /** Σ w_b over each row's features. */
  private readonly norms: Float64Array;
  private readonly unseenWeight: number;
  /** A zeroed accumulator per row, reused across queries (every touched slot is reset after use). */
  private readonly acc: Float64Array;

  private constructor(
    readonly sources: readonly string[],
    readonly targets: readonly string[],
    readonly rowsTotal: number,
  ) {
    const n = sources.length;
    const lists: number[][] = [];
    const rowFeatures = sources.map((s, row) => {
      const fs: number[] = [];
      for (const b of bigramFeatures(s)) {
        let id = this.ids.get(b);
        if (id === undefined) {
          id = lists.length;
          this.ids.set(b, id);
          lists.push([]);
        }
        lists[id]!.push(row);
        fs.push(id);
      }
      return fs;
    });
    this.unseenWeight = Math.log(n + 1);
    this.weight = Float64Array.from(lists, (l) => (n >= 20 && l.length > n / 2 ? 0 : Math.log((n + 1) / l.length)));
    this.postings = lists.map((l, id) => (this.weight[id]! > 0 ? Int32Array.from(l) : new Int32Array(0)));
    this.norms = Float64Array.from(rowFeatures, (fs) => fs.reduce((s, id) => s + this.weight[id]!, 0));
    this.acc = new Float64Array(n);
  }

  /**
   * An index over (source, target) rows. Sources are clipped to MAX_KEY_CHARS and targets to
   * MAX_VALUE_CHARS characters; rows beyond MAX_INDEX_BYTES (or `maxBytes`) are left out.
   */
  static build(rows: readonly { source: string; target: string }[], maxBytes = MAX_INDEX_BYTES): RetrievalIndex {
    const sources: string[] = [];
    const targets: string[] = [];
    let bytes = 0;
    for (const r of rows) {
      const s = clip(r.source, MAX_KEY_CHARS);
      const t = clip(r.target, MAX_VALUE_CHARS);
      bytes += Buffer.byteLength(s) + Buffer.byteLength(t) + 8;
      if (bytes > maxBytes) break;
      sources.push(s);
      targets.push(t);
    }
    return new RetrievalIndex(sources, targets, rows.length);
  }

  static fromJSON(json: unknown): RetrievalIndex {
    const j = json as Partial<RetrievalJson> | null;
    if (!j || j.format !== 'seqserve-retrieval' || j.version !== 1 || !Array.isArray(j.sources) || !Array.isArray(j.targets) || j.sources.length !== j.targets.length) {
      throw new Error('retrieval index: not a seqserve-retrieval v1 file with sources and targets of equal length');
    }
    return new RetrievalIndex(j.sources.map(String), j.targets.map(String), typeof j.rows_total === 'number' ? j.rows_total : j.sources.length);
  }

  toJSON(): RetrievalJson {
    return { format: 'seqserve-retrieval', version: 1, features: 'char-bigram-idf-dice', sources: [...this.sources], targets: [...this.targets], rows_total: this.rowsTotal };
  }

  get size(): number {
    return this.sources.length;
  }

  /**
   * The most similar row to `query` (never row `exclude`), or null when no row shares a weighted
   * bigram with it (or the index is empty).
   */
  nearest(query: string, exclude = -1): Neighbour | null {
    return this.nearestK(query, 1, exclude)[0] ?? null;
  }

  /**
   * The `k` most similar rows to `query`, best first (never row `exclude`; rows sharing no weighted
   * bigram are never returned, so fewer than k may come back). Ties go to the lower row index.
   */
  nearestK(query: string, k: number, exclude = -1): Neighbour[] {
    let qNorm = 0;
    const touched: number[] = [];
    const acc = this.acc;
    for (const b of bigramFeatures(query)) {
      const id = this.ids.get(b);
      if (id === undefined) {
        qNorm += this.unseenWeight;
        continue;
      }
      const w = this.weight[id]!;
      if (w === 0) continue;
      qNorm += w;
      const list = this.postings[id]!;
      for (let j = 0; j < list.length; j++) {
        const row = list[j]!;
        if (acc[row] === 0) touched.push(row);
        acc[row] += w;
      }
    }
    // `best` stays sorted best first and holds at most k rows (k is small: an insertion is cheap).
    const best: Neighbour[] = [];
    const better = (a: Neighbour, b: Neighbour) => a.score > b.score || (a.score === b.score && a.index < b.index);
    for (const row of touched) {
      const shared = acc[row]!;
      acc[row] = 0;
      if (row === exclude || k < 1) continue;
      const n = { index: row, score: (2 * shared) / (qNorm + this.norms[row]!) };
      if (best.length === k && !better(n, best[k - 1]!)) continue;
      let at = best.length;
      while (at > 0 && better(n, best[at - 1]!)) at--;
      best.splice(at, 0, n);
      if (best.length > k) best.pop();
    }
    return best;
  }

  /** The target of the nearest row, or '' when there is none. */
  nearestTarget(query: string, exclude = -1): string {
    const n = this.nearest(query, exclude);
    return n ? this.targets[n.index]! : '';
  }
}

/** The text a Seq2Seq example is matched on: the source (for QA, the question). */
export const retrievalKey = (ex: { source: string }): string => ex.source;

/**
 * Examples with `retrieved` set to the target of their nearest row in `index`. With `excludeSelf`,
 * example i never retrieves row i (training rows, indexed in the same order, must not see
 * themselves). A source with no match retrieves ''.
 */
export function withRetrieved<T extends { source: string }>(examples: readonly T[], index: RetrievalIndex, excludeSelf: boolean): (T & { retrieved: string })[] {
  return examples.map((e, i) => ({ ...e, retrieved: index.nearestTarget(retrievalKey(e), excludeSelf ? i : -1) }));
}

/** True when a model was trained with retrieval-augmented inputs (its manifest's hyperparameters say so). */
export function isRetrievalAugmented(manifest: { hyperparameters: Record<string, unknown> }): boolean {
  return manifest.hyperparameters.retrieval_augmented === true;
}
