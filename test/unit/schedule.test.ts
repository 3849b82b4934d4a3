// Learning-rate schedules (train/schedule.ts): warm-up, cosine to its floor, plateau scale.
import t from 'tap';
import { COSINE_FLOOR, learningRateAt, nextPlateauScale, PLATEAU_MIN_SCALE } from '../../src/train/schedule.ts';

t.test('warm-up is linear, then constant', async (t) => {
  const spec = { kind: 'constant' as const, baseLr: 0.01, warmupSteps: 4, totalSteps: null };
  t.same([0, 1, 2, 3, 4, 100].map((s) => +learningRateAt(spec, s).toFixed(6)), [0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01]);
});

t.test('cosine decays from the base rate to the floor at totalSteps', async (t) => {
  const spec = { kind: 'cosine' as const, baseLr: 1, warmupSteps: 10, totalSteps: 110 };
  t.equal(learningRateAt(spec, 10), 1);
  t.ok(Math.abs(learningRateAt(spec, 60) - (COSINE_FLOOR + (1 - COSINE_FLOOR) / 2)) < 1e-9, 'half-way: the midpoint');
  t.ok(Math.abs(learningRateAt(spec, 110) - COSINE_FLOOR) < 1e-9);
  t.ok(Math.abs(learningRateAt(spec, 500) - COSINE_FLOOR) < 1e-9, 'stays at the floor');
});

t.test('plateau: halved per evaluation without improvement, down to a floor', async (t) => {
  t.equal(nextPlateauScale(1, true), 1);
  t.equal(nextPlateauScale(1, false), 0.5);
  let s = 1;
  for (let i = 0; i < 20; i++) s = nextPlateauScale(s, false);
  t.equal(s, PLATEAU_MIN_SCALE);
  t.equal(learningRateAt({ kind: 'plateau', baseLr: 0.002, warmupSteps: 0, totalSteps: null }, 50, 0.25), 0.0005);
});

t.test('the default warm-up: 5% of the step bound, at most 100 steps', async (t) => {
  const { autoWarmup } = await import('../../src/train/loop.ts');
  t.equal(autoWarmup(50 * 88), 100, '50 epochs of 88 steps: capped at 100');
  t.equal(autoWarmup(8 * 5), 2, 'a tiny fixed run: 2 steps');
  t.equal(autoWarmup(0), 0);
});
