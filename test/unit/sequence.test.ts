// infer/sequence.ts: token events concatenate to the final text exactly once each, also when the
// client cancels from inside its own token callback (which re-enters the sequence's end).
import t from 'tap';
import { Sequence, type TokenEvent } from '../../src/infer/sequence.ts';
import { fitCharTokenizer } from '../../src/tokenize/char.ts';
import { resolveSamplingParams } from '../../src/decode/params.ts';

const tokenizer = fitCharTokenizer(['abcdefgh'], 100);
/** Greedy logits that pick `ch` (every other id far below). */
const logitsFor = (ch: string) => {
  const row = new Float32Array(tokenizer.vocabSize).fill(-10);
  row[tokenizer.encode(ch)[0]!] = 10;
  return row;
};

function run(cancelAt: number | null, via: 'abort' | 'cancel') {
  const controller = new AbortController();
  const events: TokenEvent[] = [];
  let seq: Sequence;
  const onToken = (e: TokenEvent) => {
    events.push(e);
    if (e.index === cancelAt) {
      if (via === 'abort') controller.abort();
      else seq.cancel();
    }
  };
  seq = new Sequence(tokenizer, 'm@1', 'a', resolveSamplingParams({ max_new_tokens: 6, do_sample: false }, { maxNewTokens: 64 }), { signal: controller.signal, onToken });
  // Feed the prompt (<bos> a), then one id per step; the logits after the last prompt id are the first sampled.
  const wanted = 'bcdefg';
  let i = 0;
  for (let guard = 0; guard < 20; guard++) {
    seq.takeInput();
    if (!seq.accept(seq.prefilling ? undefined : logitsFor(wanted[i++] ?? 'h'))) break;
  }
  return { events, result: seq.result() };
}

t.test('without a cancel every token is emitted once and the events make the text', async (t) => {
  const { events, result } = run(null, 'cancel');
  t.same(events.map((e) => e.text), ['b', 'c', 'd', 'e', 'f', 'g']);
  t.equal(result.text, 'bcdefg');
  t.equal(result.details.finish_reason, 'length');
});

for (const via of ['cancel', 'abort'] as const) {
  t.test(`a ${via} from inside the token callback emits no token twice and ends the sequence`, async (t) => {
    const { events, result } = run(1, via);
    t.same(events.map((e) => e.index), [0, 1], 'tokens 0 and 1, once each');
    t.equal(result.text, events.map((e) => e.text).join(''), 'the events concatenate to the text');
    t.equal(result.text, 'bc');
    t.equal(result.details.finish_reason, 'cancelled');
  });
}
