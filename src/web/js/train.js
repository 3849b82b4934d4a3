// Train: upload a dataset (POST /datasets: rows, columns, format), pick task, architecture and a few
// hyperparameters, start a job (POST /train), then follow it (job-view.js). The jobs list (GET /train)
// refreshes while the tab is shown.
import { $, el, num, bytes, alertMessage } from './dom.js';
import { api } from './api.js';
import { followJob, initJobView } from './job-view.js';
import { TASK_ROLES } from './task-roles.js';

/** Tasks POST /datasets?task= can check at upload. */
const UPLOAD_CHECKED = new Set(['generate', 'summarize', 'translate', 'qa', 'classify']);
const CONTENT_TYPES = { text: 'text/plain', jsonl: 'application/x-ndjson', csv: 'text/csv', tsv: 'text/tab-separated-values' };
const BY_EXTENSION = { txt: 'text', text: 'text', md: 'text', jsonl: 'jsonl', ndjson: 'jsonl', csv: 'csv', tsv: 'tsv' };

/** [input id, hyperparameter, kind]: empty inputs are left to the server's defaults. */
const HYPERPARAMETERS = [
  ['hp-epochs', 'epochs', 'int'],
  ['hp-max-steps', 'max_steps', 'int'],
  ['hp-units', 'units', 'int'],
  ['hp-layers', 'layers', 'int'],
  ['hp-embedding-dim', 'embedding_dim', 'int'],
  ['hp-sequence-length', 'sequence_length', 'int'],
  ['hp-batch-size', 'batch_size', 'int'],
  ['hp-learning-rate', 'learning_rate', 'float'],
  ['hp-eval-every', 'eval_every_steps', 'int'],
  ['hp-seed', 'seed', 'int'],
];

let datasets = []; // GET /datasets
let jobsTimer = null;

function chosenDataset() {
  return datasets.find((d) => d.id === $('ds-choice').value) ?? null;
}

function describeDataset(d) {
  return `${d.id} · ${d.examples.toLocaleString('en')} rows · columns ${d.columns?.join(', ') ?? '–'} · ${d.format} · ${bytes(d.bytes)}`;
}

function renderDatasetChoice(selectId) {
  const select = $('ds-choice');
  select.replaceChildren(
    el('option', { value: '' }, datasets.length ? 'Choose a dataset' : 'No datasets yet: upload one'),
    ...datasets.map((d) => el('option', { value: d.id }, `${d.name ?? d.id} (${d.format}, ${d.examples} rows)`)),
  );
  select.value = selectId ?? '';
  onDatasetChange();
}

function onDatasetChange() {
  const d = chosenDataset();
  $('ds-info').textContent = d ? describeDataset(d) : '';
  renderColumns();
}

/** One select per role of the task, offering the dataset's columns (same-named column chosen). */
function renderColumns() {
  const task = $('job-task').value;
  const columns = chosenDataset()?.columns ?? [];
  const box = $('job-columns');
  box.replaceChildren();
  if (columns.length === 0 || chosenDataset()?.format === 'text') return;
  for (const role of TASK_ROLES[task]) {
    const id = `col-${role}`;
    const select = el('select', { id, 'data-role': role }, el('option', { value: '' }, `(${role})`), ...columns.map((c) => el('option', { value: c }, c)));
    select.value = columns.includes(role) ? role : '';
    box.append(el('div', { class: 'field' }, el('label', { for: id }, `column for ${role}`), select));
  }
}

function onTaskChange() {
  $('job-languages').hidden = $('job-task').value !== 'translate';
  renderColumns();
}

async function upload(event) {
  event.preventDefault();
  alertMessage('');
  const file = $('ds-file').files?.[0];
  if (!file) return alertMessage('Choose a file to upload first.');
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  const format = $('ds-format').value || BY_EXTENSION[ext] || 'text';
  const task = $('job-task').value;
  const query = new URLSearchParams({ format, name: file.name.slice(0, 128) });
  if (UPLOAD_CHECKED.has(task) && format !== 'text') query.set('task', task);
  $('ds-upload').disabled = true;
  $('ds-info').textContent = `Uploading ${file.name} (${bytes(file.size)})…`;
  try {
    const info = await api(`/datasets?${query}`, { method: 'POST', body: file, contentType: CONTENT_TYPES[format] });
    datasets = (await api('/datasets')).datasets;
    renderDatasetChoice(info.id);
  } catch (err) {
    $('ds-info').textContent = '';
    alertMessage(`Upload refused: ${err.message}`);
  } finally {
    $('ds-upload').disabled = false;
  }
}

/** The POST /train body the form describes. */
export function trainRequest() {
  const task = $('job-task').value;
  const hyperparameters = {};
  for (const [id, key, kind] of HYPERPARAMETERS) {
    const raw = $(id).value.trim();
    if (raw !== '') hyperparameters[key] = kind === 'int' ? Number.parseInt(raw, 10) : Number(raw);
  }
  const columns = {};
  for (const select of $('job-columns').querySelectorAll('select[data-role]')) {
    if (select.value && select.value !== select.dataset.role) columns[select.dataset.role] = select.value;
  }
  const body = {
    name: $('job-name').value.trim(),
    task,
    architecture: $('job-arch').value,
    dataset: { id: $('ds-choice').value },
    ...($('job-tokenizer').value ? { tokenizer: { type: $('job-tokenizer').value } } : {}),
    hyperparameters,
  };
  if (Object.keys(columns).length) body.columns = columns;
  if (task === 'translate' && $('lang-source').value.trim() && $('lang-target').value.trim()) {
    body.languages = { source: $('lang-source').value.trim(), target: $('lang-target').value.trim() };
  }
  return body;
}

async function start(event) {
  event.preventDefault();
  alertMessage('');
  if (!$('ds-choice').value) return alertMessage('Upload or choose a dataset first.');
  $('job-start').disabled = true;
  try {
    const { job_id } = await api('/train', { method: 'POST', json: trainRequest() });
    location.hash = `#train/${job_id}`; // main.js shows and follows it
    void refreshJobs();
  } catch (err) {
    alertMessage(`Training refused: ${err.message}`);
  } finally {
    $('job-start').disabled = false;
  }
}

async function refreshJobs() {
  try {
    const { jobs } = await api('/train');
    $('jobs-body').replaceChildren(
      ...(jobs.length === 0
        ? [el('tr', {}, el('td', { colspan: 6 }, 'No jobs yet.'))]
        : jobs.map((j) =>
            el('tr', { 'data-job': j.id },
              el('td', {}, el('a', { href: `#train/${j.id}` }, j.id)),
              el('td', {}, j.name),
              el('td', {}, j.request?.task ?? ''),
              el('td', {}, el('span', { class: `status ${j.status}` }, j.status)),
              el('td', {}, j.progress ? `epoch ${num(j.progress.epoch)} / ${j.progress.epochs}` : '–'),
              el('td', {}, new Date(j.created_at).toLocaleString()),
            ),
          )),
    );
  } catch (err) {
    $('jobs-body').replaceChildren(el('tr', {}, el('td', { colspan: 6 }, `Jobs unavailable: ${err.message}`)));
  }
}

/** Shows the tab; with `jobId`, follows that job. */
export async function showTrain(jobId) {
  if (jobId) void followJob(jobId);
  clearInterval(jobsTimer);
  jobsTimer = setInterval(() => {
    if (!$('train').hidden) void refreshJobs();
    else clearInterval(jobsTimer);
  }, 5000);
  await refreshJobs();
  try {
    datasets = (await api('/datasets')).datasets;
    // The choice is read after the fetch: one made while it was in flight is kept.
    renderDatasetChoice($('ds-choice').value || undefined);
  } catch (err) {
    alertMessage(`Datasets unavailable: ${err.message}`);
  }
}

export function initTrain() {
  $('ds-upload').addEventListener('click', upload);
  $('ds-choice').addEventListener('change', onDatasetChange);
  $('job-task').addEventListener('change', onTaskChange);
  $('job-form').addEventListener('submit', start);
  initJobView({ onEnded: () => void refreshJobs() });
  onTaskChange();
}
