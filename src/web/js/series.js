// The loss curve's data, kept apart from the DOM so it is unit-tested in Node
// (test/unit/playground-series.test.ts). Points are in epochs on x: completed epochs plus the
// fraction of the current one (`epoch + step/steps` of a progress report).
//
// Series: {x: number[], loss: number[], val: (number|null)[]}, x strictly increasing. `loss` is the
// running mean training loss of the current epoch at that report; `val` is set only where a held-out
// evaluation produced a new val_loss (null elsewhere: the chart joins the evaluations).

export const emptySeries = () => ({ x: [], loss: [], val: [] });

/** x of a progress report, in epochs. */
export function progressX(p) {
  return p.steps > 0 ? p.epoch + Math.min(p.step, p.steps) / p.steps : p.epoch;
}

function lastVal(s) {
  for (let i = s.val.length - 1; i >= 0; i--) if (s.val[i] !== null) return s.val[i];
  return null;
}

/**
 * Adds a progress report (`frame.progress`) to `s` in place; returns true when the series changed.
 * A report at the same x updates that point; a report before the last x (a retried attempt that
 * resumed from its checkpoint) drops the points after it, as the run itself went back.
 */
export function appendProgress(s, p) {
  if (!p || typeof p.loss !== 'number' || !Number.isFinite(p.loss)) return false;
  const x = progressX(p);
  const eps = 1e-9;
  while (s.x.length > 0 && s.x[s.x.length - 1] > x + eps) {
    s.x.pop();
    s.loss.pop();
    s.val.pop();
  }
  const previousVal = lastVal(s);
  const newVal = typeof p.val_loss === 'number' && p.val_loss !== previousVal ? p.val_loss : null;
  const n = s.x.length;
  if (n > 0 && Math.abs(s.x[n - 1] - x) <= eps) {
    const changed = s.loss[n - 1] !== p.loss || newVal !== null;
    s.loss[n - 1] = p.loss;
    if (newVal !== null) s.val[n - 1] = newVal;
    return changed;
  }
  s.x.push(x);
  s.loss.push(p.loss);
  s.val.push(newVal);
  return true;
}

const EPOCH_LINE = /epoch (\d+)\/\d+: loss ([0-9.]+) val_loss ([0-9.]+|n\/a)/;
const STEP_LINE = /step \d+ \(epoch (\d+), (\d+)\/(\d+)\): loss ([0-9.]+) val_loss ([0-9.]+|n\/a)/;

/**
 * The series a job's log can rebuild (GET /train/:id/logs): one point per held-out evaluation
 * ("epoch 3/50: loss … val_loss …", "step 120 (epoch 2, 20/50): loss … val_loss …", train/loop.ts).
 * Used when the page has no recorded points for a job (another tab, a job that already ended).
 */
export function seriesFromLogs(lines) {
  const byX = new Map();
  for (const line of lines) {
    let m = EPOCH_LINE.exec(line);
    if (m) {
      byX.set(Number(m[1]), [Number(m[2]), m[3] === 'n/a' ? null : Number(m[3])]);
      continue;
    }
    m = STEP_LINE.exec(line);
    if (m) byX.set(Number(m[1]) - 1 + Number(m[2]) / Number(m[3]), [Number(m[4]), m[5] === 'n/a' ? null : Number(m[5])]);
  }
  const s = emptySeries();
  for (const x of [...byX.keys()].sort((a, b) => a - b)) {
    const [loss, val] = byX.get(x);
    s.x.push(x);
    s.loss.push(loss);
    s.val.push(val);
  }
  return s;
}
