// Try: the chosen model's task decides the form — a chat view (multi-turn, with a session kept by
// the server), or a generate / translate / summarize / QA / classify form. Tokens stream over the
// page's WebSocket; Stop sends a cancel frame. The same request is shown as curl and openai code.
import { $, el, num, alertMessage, copyText } from './dom.js';
import { api, apiKey, socket } from './api.js';
import { loadModels, modelDetails } from './models.js';
import { readParameters, showParametersFor } from './params.js';
import { snippets } from './snippets.js';
import { chat } from './chat.js';

/** Example inputs per task, filled in when a field is empty. */
const EXAMPLES = {
  generate: { 'try-prompt': 'And God said' },
  translate: { 'try-text': 'three hundred seventy-one' },
  summarize: { 'try-text': 'The quick brown fox jumps over the lazy dog. The dog does not move. The fox runs away into the forest.' },
  qa: { 'try-question': 'What is the capital of Peru?', 'try-context': 'Peru lies in South America. The capital of Peru is Lima.' },
  classify: { 'try-text': 'my card was charged twice' },
};

let models = [];
let running = null; // {cancel} of the request in flight

const current = () => {
  const name = $('try-model').value;
  const m = models.find((x) => x.name === name);
  const version = $('try-version').value;
  return { name, task: m?.task ?? 'generate', ref: version && Number(version) !== m?.latest ? `${name}@${version}` : name };
};

/** The request the form describes: the native HTTP body, the WS frame, and for chat the messages. */
export function buildRequest() {
  const { task, ref } = current();
  const parameters = readParameters(task);
  const withParams = (o) => (Object.keys(parameters).length ? { ...o, parameters } : o);
  if (task === 'chat') {
    const messages = chat.messagesWith($('chat-message').value || 'Hello!');
    return { task, model: ref, messages, body: withParams({ model: ref, messages }), frame: null };
  }
  let body;
  if (task === 'generate') body = withParams({ model: ref, prompt: $('try-prompt').value });
  else if (task === 'qa') {
    const context = $('try-context').value;
    body = withParams({ model: ref, question: $('try-question').value, ...(context.trim() ? { context } : {}) });
  } else if (task === 'classify') body = { model: ref, text: $('try-text').value };
  else body = withParams({ model: ref, text: $('try-text').value });
  return { task, model: ref, body, frame: task === 'classify' ? null : { type: task, ...body } };
}

function renderCode() {
  const req = buildRequest();
  const code = snippets(req, { origin: location.origin, withKey: apiKey.get() !== '' });
  $('code-curl').textContent = code.curl;
  $('code-openai').textContent = code.openai;
}

function setRunning(r) {
  running = r;
  $('try-run').disabled = r !== null;
  $('try-stop').disabled = r === null;
  $('chat-send').disabled = r !== null;
  $('chat-stop').disabled = r === null;
}

/** "eos · 40 tokens · 10 input tokens · seed 7 · 35 ms · kjv-char@1". */
export function describeDetails(d) {
  const parts = [d.finish_reason, `${d.generated_tokens} tokens`, `${d.input_tokens} input tokens`];
  if (d.cached_tokens !== undefined) parts.push(`${d.cached_tokens} cached`);
  if (d.num_beams > 1) parts.push(`${d.num_beams} beams`);
  if (d.truncated_input_tokens) parts.push(`${d.truncated_input_tokens} input tokens truncated`);
  parts.push(`seed ${d.seed}`, `${num(d.elapsed_ms)} ms`);
  if (d.elapsed_ms > 0 && d.generated_tokens > 1) parts.push(`${num((d.generated_tokens * 1000) / d.elapsed_ms)} tokens/s`);
  parts.push(d.model);
  return parts.join(' · ');
}

async function runClassify(body) {
  const out = $('try-output');
  const res = await api('/classify', { method: 'POST', json: body });
  const scores = Object.entries(res.scores).sort((a, b) => b[1] - a[1]);
  out.replaceChildren(
    el('p', {}, 'Label: ', el('strong', {}, res.label)),
    el('ul', { class: 'scores' }, scores.map(([label, p]) => el('li', {}, el('span', {}, label), el('meter', { min: 0, max: 1, value: p, 'aria-label': `${label} score` }), el('span', {}, num(p))))),
  );
  $('try-details').textContent = describeDetails({ ...res.details, generated_tokens: 0 });
}

async function run(event) {
  event.preventDefault();
  alertMessage('');
  const req = buildRequest();
  if (req.task === 'chat') return chat.send();
  const out = $('try-output');
  out.replaceChildren();
  out.dataset.tokens = '0';
  delete out.dataset.done;
  $('try-details').textContent = '';
  if (req.task === 'classify') {
    try {
      await runClassify(req.body);
    } catch (err) {
      alertMessage(err.message);
    }
    return;
  }
  if (req.task === 'generate') out.append(el('span', { class: 'prompt' }, req.body.prompt));
  const generated = el('span', { class: 'generated', id: 'try-generated' });
  out.append(generated);
  let tokens = 0;
  try {
    const handle = await socket.request(req.frame, {
      onToken: (f) => {
        generated.textContent += f.text;
        out.dataset.tokens = String(++tokens);
      },
      onDone: (f) => {
        generated.textContent = f.text;
        $('try-details').textContent = describeDetails(f.details);
        out.dataset.done = f.details.finish_reason;
        setRunning(null);
      },
      onError: (err) => {
        alertMessage(err.message);
        setRunning(null);
      },
    });
    setRunning(handle);
  } catch (err) {
    alertMessage(err.message);
    setRunning(null);
  }
}

function fillVersions() {
  const { name } = current();
  const detail = modelDetails.get(name);
  const versions = detail ? detail.versions.map((v) => v.version) : [];
  $('try-version').replaceChildren(...versions.map((v) => el('option', { value: v }, v === detail.latest ? `${v} (latest)` : String(v))));
  if (detail) $('try-version').value = String(detail.latest);
}

function onModelChange() {
  const { task, name } = current();
  for (const group of document.querySelectorAll('#try [data-task]')) group.hidden = !group.dataset.task.split(' ').includes(task);
  for (const [id, value] of Object.entries(EXAMPLES[task] ?? {})) if ($(id).value === '') $(id).value = value;
  showParametersFor(task);
  $('try-task').textContent = task;
  $('try-output').replaceChildren();
  delete $('try-output').dataset.done;
  $('try-details').textContent = '';
  chat.reset(name);
  if (location.hash.startsWith('#try') && location.hash !== `#try/${name}`) history.replaceState(null, '', `#try/${name}`);
  renderCode();
}

/** Shows the tab with `name` chosen (or the current/first model). */
export async function showTry(name) {
  models = await loadModels();
  const select = $('try-model');
  const keep = name || select.value;
  select.replaceChildren(...models.map((m) => el('option', { value: m.name }, `${m.name} (${m.task})`)));
  if (models.length === 0) return;
  select.value = models.some((m) => m.name === keep) ? keep : models[0].name;
  fillVersions();
  onModelChange();
}

export function initTry() {
  $('try-model').addEventListener('change', () => {
    fillVersions();
    onModelChange();
  });
  $('try-version').addEventListener('change', () => {
    chat.reset($('try-model').value);
    renderCode();
  });
  $('try-form').addEventListener('submit', run);
  $('try-form').addEventListener('input', () => requestAnimationFrame(renderCode));
  $('try-stop').addEventListener('click', () => running?.cancel());
  $('chat-stop').addEventListener('click', () => running?.cancel());
  for (const button of document.querySelectorAll('button[data-copy]')) button.addEventListener('click', () => copyText($(button.dataset.copy), button));
  chat.init({ current, setRunning, describeDetails, renderCode });
}
