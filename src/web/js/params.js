// The sampling and beam parameters fieldset → the `parameters` object of a request. An empty field
// is left out (the server's documented default applies); beam fields only for Seq2Seq tasks.
import { $ } from './dom.js';

/** [input id, parameter, kind]: kind int, float, bool or lines (one stop sequence per line). */
const FIELDS = [
  ['p-max-new-tokens', 'max_new_tokens', 'int'],
  ['p-temperature', 'temperature', 'float'],
  ['p-top-k', 'top_k', 'int'],
  ['p-top-p', 'top_p', 'float'],
  ['p-repetition-penalty', 'repetition_penalty', 'float'],
  ['p-seed', 'seed', 'int'],
  ['p-stop', 'stop', 'lines'],
  ['p-do-sample', 'do_sample', 'bool'],
];
const BEAM_FIELDS = [
  ['p-num-beams', 'num_beams', 'int'],
  ['p-length-penalty', 'length_penalty', 'float'],
  ['p-no-repeat-ngram', 'no_repeat_ngram_size', 'int'],
];
export const SEQ2SEQ_TASKS = new Set(['summarize', 'translate', 'qa']);

/** Reads the parameters fieldset for `task`; classify takes none. */
export function readParameters(task) {
  if (task === 'classify') return {};
  const out = {};
  for (const [id, key, kind] of [...FIELDS, ...(SEQ2SEQ_TASKS.has(task) ? BEAM_FIELDS : [])]) {
    const input = $(id);
    if (kind === 'bool') {
      // A select: "" = server default, "true", "false".
      if (input.value !== '') out[key] = input.value === 'true';
      continue;
    }
    const raw = input.value.trim();
    if (raw === '') continue;
    if (kind === 'lines') {
      const lines = input.value.split('\n').filter((l) => l !== '');
      if (lines.length > 0) out[key] = lines;
    } else out[key] = kind === 'int' ? Number.parseInt(raw, 10) : Number(raw);
  }
  return out;
}

/** Shows the beam fields only for Seq2Seq tasks and the whole fieldset except for classify. */
export function showParametersFor(task) {
  $('params').hidden = task === 'classify';
  $('beam-params').hidden = !SEQ2SEQ_TASKS.has(task);
}
