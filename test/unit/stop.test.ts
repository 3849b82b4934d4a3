import t from 'tap';
import { StopSequenceMatcher } from '../../src/decode/stop.ts';
import { TextStreamer, toWellFormed } from '../../src/decode/streamer.ts';

/** Pushes every piece, returns what was emitted per push, the flush and whether it stopped. */
function run(stops: string[], pieces: string[]) {
  const m = new StopSequenceMatcher(stops);
  const emits: string[] = [];
  let stopped = false;
  for (const piece of pieces) {
    const r = m.push(piece);
    emits.push(r.emit);
    stopped = r.stopped;
  }
  const rest = m.flush();
  return { emits, rest, stopped, text: emits.join('') + rest, matched: m.matched };
}

t.test('stop sequence across token boundaries', async (t) => {
  const r = run(['lo E'], ['Hel', 'lo ', 'END', ' more']);
  t.same(r.emits, ['He', 'l', '', ''], 'only a possible start of "lo E" is held back');
  t.equal(r.text, 'Hel', 'stop text never emitted');
  t.ok(r.stopped);
  t.equal(r.matched, 'lo E');
  t.equal(r.rest, '', 'nothing to flush after a stop');

  const one = run(['END'], ['abcENDxyz']);
  t.same(one.emits, ['abc']);
  t.ok(one.stopped);

  const split = run(['</s>'], ['ok<', '/', 's', '>tail']);
  t.same(split.emits, ['ok', '', '', '']);
  t.equal(split.text, 'ok');
});

t.test('no stop sequence → all text, held-back tail released by flush', async (t) => {
  const pieces = ['Hello', ' wor', 'ld', '!'];
  const none = run([], pieces);
  t.same(none.emits, pieces, 'nothing is held without stops');
  t.notOk(none.stopped);

  const held = run(['!!!'], ['Hi', '!', '!']);
  t.same(held.emits, ['Hi', '', '']);
  t.equal(held.rest, '!!', 'flush returns the held tail');
  t.equal(held.text, 'Hi!!');
  t.notOk(held.stopped);
  t.equal(held.matched, null);
});

t.test('a partial match that diverges is emitted', async (t) => {
  const r = run(['STOP'], ['ab', 'ST', 'O', '?', 'x']);
  t.notOk(r.stopped);
  t.same(r.emits, ['ab', '', '', 'STO?', 'x']);
  t.equal(r.text, 'abSTO?x');

  const overlap = run(['aab'], ['a', 'a', 'a', 'b', 'c']);
  t.same(overlap.emits, ['', '', 'a', '', '']);
  t.ok(overlap.stopped, '"aaab" contains "aab" starting at the 2nd a');
  t.equal(overlap.text, 'a');
});

t.test('several stops: the earliest wins, the longest tail is held', async (t) => {
  const r = run(['world', 'lo'], ['hello world']);
  t.same(r.emits, ['hel']);
  t.equal(r.matched, 'lo');

  const tail = run(['xyz', 'yq'], ['axy']);
  t.same(tail.emits, ['a'], 'holds "xy", the longer candidate prefix');
  t.equal(tail.rest, 'xy');

  const empty = run(['', 'Z'], ['abc']);
  t.same(empty.emits, ['abc'], 'empty stop strings are ignored');
});

t.test('emitted text is always a prefix of the truncated output (randomised)', async (t) => {
  const alphabet = 'ab<>';
  let seed = 1;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let trial = 0; trial < 300; trial++) {
    const text = Array.from({ length: 1 + rand(30) }, () => alphabet[rand(4)]).join('');
    const stops = Array.from({ length: 1 + rand(3) }, () =>
      Array.from({ length: 1 + rand(4) }, () => alphabet[rand(4)]).join(''),
    );
    const pieces: string[] = [];
    for (let i = 0; i < text.length; ) {
      const n = 1 + rand(4);
      pieces.push(text.slice(i, i + n));
      i += n;
    }
    const cut = Math.min(...stops.map((s) => (text.includes(s) ? text.indexOf(s) : Infinity)));
    const expected = Number.isFinite(cut) ? text.slice(0, cut) : text;
    const r = run(stops, pieces);
    if (r.text !== expected || r.stopped !== Number.isFinite(cut)) {
      t.fail(`text=${JSON.stringify(text)} stops=${JSON.stringify(stops)} got ${JSON.stringify(r.text)}`);
      return;
    }
  }
  t.pass('300 random cases agree with the reference truncation');
});

t.test('TextStreamer holds a lone high surrogate until its pair arrives', async (t) => {
  const s = new TextStreamer();
  const wave = '👋'; // \uD83D\uDC4B
  t.same(s.push('hi ' + wave[0]), { text: 'hi ', stopped: false });
  t.same(s.push(wave[1] + '!'), { text: '👋!', stopped: false });
  t.same(s.push('\uD83D'), { text: '', stopped: false });
  t.equal(s.end(), '\uFFFD', 'an orphan high surrogate at the end becomes U+FFFD');

  const chunks: string[] = [];
  const s2 = new TextStreamer();
  for (const unit of '你好 👋🏽 café') chunks.push(s2.push(unit).text); // code points
  for (const c of 'x😀y'.split('')) chunks.push(s2.push(c).text); // code units
  chunks.push(s2.end());
  t.equal(chunks.join(''), '你好 👋🏽 caféx😀y');
  for (const c of chunks) t.equal(toWellFormed(c), c, `chunk ${JSON.stringify(c)} is well-formed`);
});

t.test('TextStreamer composes with stop sequences', async (t) => {
  const s = new TextStreamer(['\n\nUser:']);
  const out: string[] = [];
  let stopped = false;
  for (const piece of ['Sure', '.', '\n', '\n', 'Us', 'er', ':', ' more']) {
    const r = s.push(piece);
    out.push(r.text);
    stopped ||= r.stopped;
  }
  t.ok(stopped);
  t.ok(s.stopped);
  t.equal(s.matchedStop, '\n\nUser:');
  t.equal(out.join(''), 'Sure.');
  t.equal(s.end(), '');
  t.same(s.push('late'), { text: '', stopped: true });

  const emoji = new TextStreamer(['😀']);
  t.same(emoji.push('a\uD83D'), { text: 'a', stopped: false });
  t.same(emoji.push('\uDE00b'), { text: '', stopped: true }, 'stop made of a split surrogate pair');

  const partial = new TextStreamer(['END']);
  t.equal(partial.push('the EN').text, 'the ');
  t.equal(partial.end(), 'EN', 'held partial stop released at the end');
  t.equal(toWellFormed('a\uDC00b\uD800'), 'a\uFFFDb\uFFFD');
});
