// One training job, followed live: status, epoch/step/tokens-per-second/ETA, the loss chart and the
// log tail, fed by `subscribe` frames on the page's WebSocket; a cancel button. The job id is in
// the URL (#train/<id>) and the chart's points in sessionStorage, so a reload mid-job resumes the
// same view with its curve; without stored points the curve is rebuilt from the job's log.
import { $, el, num, duration, alertMessage } from './dom.js';
import { api, socket } from './api.js';
import { emptySeries, appendProgress, seriesFromLogs } from './series.js';
import { LossChart } from './loss-chart.js';
import { qualityView } from './quality.js';

const ENDED = new Set(['completed', 'failed', 'cancelled']);
const LOG_LINES = 40;
const storageKey = (id) => `seqserve.job.${id}.series`;

let followed = null; // {id, series, chart, unsubscribe, logTimer, ended}
/** Called when a followed job ends (the jobs list refreshes). */
let onEnded = () => undefined;

function saveSeries(id, series) {
  try {
    sessionStorage.setItem(storageKey(id), JSON.stringify(series));
  } catch {
    // storage full: the log can still rebuild the curve
  }
}

function loadSeries(id) {
  try {
    const s = JSON.parse(sessionStorage.getItem(storageKey(id)) ?? 'null');
    return s && Array.isArray(s.x) && Array.isArray(s.loss) && Array.isArray(s.val) ? s : null;
  } catch {
    return null;
  }
}

function renderStats(job) {
  const p = job.progress;
  const rows = [
    ['status', job.status],
    ['model', job.name],
    ['epoch', p ? `${num(p.epoch + (p.steps ? Math.min(p.step, p.steps) / p.steps : 0), 3)} / ${p.epochs}` : '–'],
    ['step', p ? `${p.step} / ${p.steps}` : '–'],
    ['loss', p ? num(p.loss, 4) : '–'],
    ['val_loss', p ? num(p.val_loss, 4) : '–'],
    ['best val_loss', p ? num(p.best_val_loss, 4) : '–'],
    ['tokens/s', p ? num(p.tokens_per_sec) : '–'],
    ['ETA', p && !ENDED.has(job.status) ? duration(p.eta_s) : '–'],
    ['learning rate', p?.learning_rate !== undefined ? num(p.learning_rate) : '–'],
  ];
  if (p?.stop_reason) rows.push(['stopped', p.stop_reason]);
  $('job-stats').replaceChildren(...rows.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', { 'data-stat': k }, v))));
  $('job').dataset.status = job.status;
  $('job-title').textContent = `Job ${job.id}: ${job.name}`;
  $('job-cancel').disabled = ENDED.has(job.status);
  const result = $('job-result');
  result.replaceChildren();
  if (job.status === 'completed' && job.result) {
    const task = job.request?.task ?? 'generate';
    result.append(
      el('p', {}, 'Published ', el('strong', {}, `${job.result.model}@${job.result.version}`), ' ', el('a', { href: `#try/${job.result.model}` }, 'Try it')),
      qualityView(task, job.result.metrics, job.result.quality_warning),
    );
  } else if (job.status === 'failed') result.append(el('p', { class: 'warning' }, `Failed: ${job.error ?? 'unknown error'}`));
  else if (job.status === 'cancelled') result.append(el('p', {}, 'Cancelled.'));
}

async function refreshLogs(f) {
  try {
    const { logs } = await api(`/train/${f.id}/logs`);
    if (followed !== f) return;
    $('job-logs').textContent = logs.slice(-LOG_LINES).join('\n');
    $('job-logs').scrollTop = $('job-logs').scrollHeight;
    if (f.series.x.length === 0) {
      const rebuilt = seriesFromLogs(logs);
      if (rebuilt.x.length > 0) {
        f.series = rebuilt;
        await draw(f);
      }
    }
  } catch (err) {
    if (followed === f) $('job-logs').textContent = `logs unavailable: ${err.message}`;
  }
}

async function draw(f) {
  await f.chart.draw(f.series);
  $('job-chart').dataset.points = String(f.series.x.length);
}

function onFrame(f, frame) {
  if (followed !== f) return;
  if (frame.type === 'error') {
    alertMessage(`job ${f.id}: ${frame.error.message}`);
    return;
  }
  const view = { id: frame.job_id, name: f.name, status: frame.status, progress: frame.progress, result: frame.result ?? null, error: frame.error ?? null, request: f.request };
  renderStats(view);
  if (appendProgress(f.series, frame.progress)) {
    saveSeries(f.id, f.series);
    void draw(f);
  }
  if (ENDED.has(frame.status) && !f.ended) {
    f.ended = true;
    clearInterval(f.logTimer);
    void refreshLogs(f);
    onEnded();
  }
}

export function stopFollowing() {
  if (!followed) return;
  followed.unsubscribe?.();
  clearInterval(followed.logTimer);
  followed.chart.destroy();
  followed = null;
}

/** Shows job `id` and follows it until it ends. */
export async function followJob(id) {
  if (followed?.id === id) return;
  stopFollowing();
  $('job').hidden = false;
  $('job-logs').textContent = '';
  $('job-chart').replaceChildren();
  $('job-chart').dataset.points = '0';
  const f = { id, name: '', request: null, series: loadSeries(id) ?? emptySeries(), chart: new LossChart($('job-chart')), unsubscribe: null, logTimer: null, ended: false };
  followed = f;
  try {
    const job = await api(`/train/${id}`);
    if (followed !== f) return;
    f.name = job.name;
    f.request = job.request;
    renderStats(job);
    appendProgress(f.series, job.progress);
    if (f.series.x.length > 0) await draw(f);
    await refreshLogs(f);
    if (ENDED.has(job.status)) {
      f.ended = true;
      return;
    }
    f.logTimer = setInterval(() => void refreshLogs(f), 2000);
    f.unsubscribe = await socket.subscribe(id, (frame) => onFrame(f, frame));
  } catch (err) {
    if (followed === f) alertMessage(`job ${id}: ${err.message}`);
  }
}

export function initJobView(opts) {
  onEnded = opts.onEnded;
  $('job-cancel').addEventListener('click', async () => {
    if (!followed) return;
    $('job-cancel').disabled = true;
    try {
      await api(`/train/${followed.id}/cancel`, { method: 'POST' });
    } catch (err) {
      alertMessage(err.message);
      $('job-cancel').disabled = false;
    }
  });
}
