// Models: the store's models with task, architecture, versions and held-out quality beside the
// baselines (GET /models, GET /models/:name), and two versions side by side.
import { $, el, num } from './dom.js';
import { api } from './api.js';
import { qualityView } from './quality.js';

/** name → GET /models/:name (versions with manifests); refreshed by loadModels. */
export const modelDetails = new Map();
let loading = null;

/** Loads the model list and every model's versions; resolves to the summaries. */
export function loadModels() {
  loading ??= (async () => {
    const { models } = await api('/models');
    const details = await Promise.all(models.map((m) => api(`/models/${encodeURIComponent(m.name)}`).catch(() => null)));
    modelDetails.clear();
    details.forEach((d, i) => d && modelDetails.set(models[i].name, d));
    return models;
  })().finally(() => (loading = null));
  return loading;
}

function manifestOf(name, version) {
  return modelDetails.get(name)?.versions.find((v) => v.version === version)?.manifest ?? null;
}

function renderTable(models) {
  const body = $('models-body');
  body.replaceChildren();
  if (models.length === 0) {
    body.append(el('tr', {}, el('td', { colspan: 6 }, 'No models yet: train one in the Train tab.')));
    return;
  }
  for (const m of models) {
    const manifest = manifestOf(m.name, m.latest) ?? {};
    const versions = modelDetails.get(m.name)?.versions.map((v) => v.version) ?? [m.latest];
    body.append(
      el('tr', { 'data-model': m.name },
        el('th', { scope: 'row' }, m.name, manifest.data_description ? el('span', { class: 'sub' }, String(manifest.data_description).slice(0, 90)) : null),
        el('td', { 'data-label': 'task' }, m.task),
        el('td', { 'data-label': 'architecture' }, m.architecture),
        el('td', { 'data-label': 'versions' }, versions.length > 1 ? `${versions.join(', ')} (latest ${m.latest})` : String(m.latest)),
        el('td', { 'data-label': 'held-out' }, qualityView(m.task, manifest.metrics, m.quality_warning ?? manifest.quality_warning)),
        el('td', {}, el('a', { href: `#try/${m.name}`, class: 'button small', 'aria-label': `Try ${m.name}` }, 'Try')),
      ),
    );
  }
}

/** Rows of the side-by-side view: [label, value of a manifest]. */
const COMPARE_ROWS = [
  ['task', (m) => m.task],
  ['architecture', (m) => m.architecture],
  ['created', (m) => m.created_at],
  ['tokenizer', (m) => (m.tokenizer ? `${m.tokenizer.type ?? ''} ${m.tokenizer.vocab_size ?? m.tokenizer.vocabSize ?? ''}`.trim() : undefined)],
  ['layers × units', (m) => (m.hyperparameters ? `${m.hyperparameters.layers} × ${m.hyperparameters.units}` : undefined)],
  ['epochs completed', (m) => m.training?.epochs_completed],
  ['steps', (m) => m.training?.steps],
  ['stop reason', (m) => m.training?.stop_reason],
  ['dataset sha256', (m) => (m.dataset?.sha256 ? String(m.dataset.sha256).slice(0, 12) : undefined)],
];

function renderCompare() {
  const [a, b] = [$('cmp-a').value, $('cmp-b').value].map((ref) => {
    const [name, v] = ref.split('@');
    return { ref, manifest: manifestOf(name, Number(v)) };
  });
  const box = $('compare');
  box.replaceChildren();
  if (!a.manifest || !b.manifest) return;
  const show = (v) => (v === undefined || v === null ? '–' : typeof v === 'number' ? num(v, 4) : String(v));
  const metricKeys = [...new Set([...Object.keys(a.manifest.metrics ?? {}), ...Object.keys(b.manifest.metrics ?? {})])];
  const rows = [
    ...COMPARE_ROWS.map(([label, get]) => [label, get(a.manifest), get(b.manifest)]),
    ...metricKeys.map((k) => [k, a.manifest.metrics?.[k], b.manifest.metrics?.[k]]),
    ['quality warning', a.manifest.quality_warning?.message ?? 'none', b.manifest.quality_warning?.message ?? 'none'],
  ];
  box.append(
    el('table', { class: 'compare' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, ''), el('th', { scope: 'col' }, a.ref), el('th', { scope: 'col' }, b.ref))),
      el('tbody', {}, rows.map(([label, x, y]) => el('tr', { class: show(x) === show(y) ? '' : 'differs' }, el('th', { scope: 'row' }, label), el('td', {}, show(x)), el('td', {}, show(y))))),
    ),
  );
}

function fillCompareChoices() {
  const refs = [...modelDetails.values()].flatMap((d) => d.versions.map((v) => `${d.name}@${v.version}`));
  for (const [i, id] of ['cmp-a', 'cmp-b'].entries()) {
    const select = $(id);
    const keep = select.value;
    select.replaceChildren(...refs.map((r) => el('option', { value: r }, r)));
    select.value = refs.includes(keep) ? keep : (refs[Math.min(i, refs.length - 1)] ?? '');
  }
  renderCompare();
}

export async function showModels() {
  $('models-status').textContent = 'Loading…';
  const models = await loadModels();
  renderTable(models);
  fillCompareChoices();
  $('models-status').textContent = `${models.length} model${models.length === 1 ? '' : 's'}`;
}

export function initModels() {
  $('cmp-a').addEventListener('change', renderCompare);
  $('cmp-b').addEventListener('change', renderCompare);
}
