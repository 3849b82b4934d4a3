/**
 * The retrieval baseline a chat model is compared with: for every held-out assistant turn, the
 * reply of the most similar training prompt (cosine similarity of TF-IDF word vectors between the
 * turn's preceding user message and every training user message).
 *
 * Two figures, both over the same held-out assistant tokens the model's perplexity counts (content
 * and the `<|end|>` marker):
 *  - retrieval_perplexity: each token scored by p = λ·(its count in the retrieved reply)/(reply
 *    length) + (1-λ)·p_unigram (add-one unigram of the training assistant tokens), so the retrieved
 *    reply becomes a distribution; λ is the best of 0.1…0.9 on the held-out turns themselves (which
 *    flatters the baseline, never the model). unigram_perplexity is λ = 0.
 *  - retrieval_f1: word-level F1 (SQuAD normalisation) of the retrieved reply against the true one.
 */
import { tokenF1 } from '../eval/qa.ts';
import { wordTokens } from '../eval/tokens.ts';
import type { ChatTokenizer, TemplateMessage } from '../tasks/chat-template.ts';

export interface Turn {
  prompt: string;
  reply: string;
}

/** (preceding user message, assistant reply) for every assistant turn with text. */
export function assistantTurns(conversations: readonly { messages: readonly TemplateMessage[] }[]): Turn[] {
  const out: Turn[] = [];
  for (const c of conversations) {
    let prompt = '';
    for (const m of c.messages) {
      if (m.role === 'user') prompt = m.content;
      else if (m.role === 'assistant' && m.content.trim() !== '') out.push({ prompt, reply: m.content });
    }
  }
  return out;
}

type Vec = Map<string, number>;

function vectorize(text: string, idf: Map<string, number>): { v: Vec; norm: number } {
  const v: Vec = new Map();
  for (const w of wordTokens(text.toLowerCase())) v.set(w, (v.get(w) ?? 0) + 1);
  let norm = 0;
  for (const [w, tf] of v) {
    const x = tf * (idf.get(w) ?? 0);
    v.set(w, x);
    norm += x * x;
  }
  return { v, norm: Math.sqrt(norm) };
}

/** For each query prompt, the index of the most similar training prompt (ties: the first). */
export function retrieve(train: readonly Turn[], queries: readonly string[]): number[] {
  const df = new Map<string, number>();
  for (const t of train) for (const w of new Set(wordTokens(t.prompt.toLowerCase()))) df.set(w, (df.get(w) ?? 0) + 1);
  const idf = new Map([...df].map(([w, n]) => [w, Math.log((1 + train.length) / (1 + n)) + 1]));
  const vecs = train.map((t) => vectorize(t.prompt, idf));
  // Inverted index: word → [training turn, weight].
  const index = new Map<string, Array<[number, number]>>();
  vecs.forEach(({ v }, i) => v.forEach((x, w) => (index.get(w) ?? index.set(w, []).get(w)!).push([i, x])));
  return queries.map((q) => {
    const { v, norm } = vectorize(q, idf);
    const scores = new Map<number, number>();
    v.forEach((x, w) => index.get(w)?.forEach(([i, y]) => scores.set(i, (scores.get(i) ?? 0) + x * y)));
    let best = 0;
    let bestScore = -1;
    for (const [i, s] of scores) {
      const cos = s / (norm * vecs[i]!.norm || 1);
      if (cos > bestScore || (cos === bestScore && i < best)) [best, bestScore] = [i, cos];
    }
    return best;
  });
}

export function retrievalBaseline(chat: ChatTokenizer, train: readonly Turn[], val: readonly Turn[]): Record<string, number> {
  if (train.length === 0 || val.length === 0) return {};
  const V = chat.vocabSize;
  const replyIds = (t: Turn) => [...chat.encode(t.reply), chat.end];
  const unigram = new Float64Array(V).fill(1);
  let total = V;
  for (const t of train) for (const id of replyIds(t)) (unigram[id]++, total++);
  const picks = retrieve(train, val.map((t) => t.prompt));
  const lambdas = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const nll = new Float64Array(lambdas.length);
  let tokens = 0;
  let f1 = 0;
  val.forEach((t, k) => {
    const got = train[picks[k]!]!;
    f1 += tokenF1(got.reply, t.reply);
    const counts = new Map<number, number>();
    const r = replyIds(got);
    for (const id of r) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of replyIds(t)) {
      const pu = unigram[id]! / total;
      const pr = (counts.get(id) ?? 0) / r.length;
      lambdas.forEach((l, i) => (nll[i] -= Math.log(l * pr + (1 - l) * pu)));
      tokens++;
    }
  });
  let best = 1;
  for (let i = 2; i < lambdas.length; i++) if (nll[i]! < nll[best]!) best = i;
  return {
    retrieval_perplexity: Math.exp(nll[best]! / tokens),
    retrieval_lambda: lambdas[best]!,
    unigram_perplexity: Math.exp(nll[0]! / tokens),
    retrieval_f1: f1 / val.length,
    heldout_assistant_turns: val.length,
  };
}
