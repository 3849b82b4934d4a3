import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend, parseBackendPreference } from '../../src/backend/select.ts';

interface Entry { level: 'info' | 'warn'; o: Record<string, unknown>; msg: string }
function recorder() {
  const entries: Entry[] = [];
  return {
    entries,
    info(o: object, msg: string) { entries.push({ level: 'info', o: o as Record<string, unknown>, msg }); },
    warn(o: object, msg: string) { entries.push({ level: 'warn', o: o as Record<string, unknown>, msg }); },
  };
}

t.test('wasm', async (t) => {
  t.equal(backendInfo(), undefined, 'nothing before init');
  const info = await initBackend('wasm');
  t.equal(info.name, 'wasm');
  t.equal(tf.getBackend(), 'wasm');
  t.equal(info.requested, 'wasm');
  t.equal(info.native, false);
  t.ok(info.threads >= 1);
  t.same(info.fixes, ['UnsortedSegmentSum', 'BatchMatMul', '_FusedMatMul', 'Slice', 'Unpack', 'SplitV', 'Identity', 'GatherV2']);
  t.same(backendInfo(), info);
  // idempotent, also when called concurrently
  const [a, b] = await Promise.all([initBackend('wasm'), initBackend('wasm')]);
  t.same(a, info);
  t.same(b, info);
  t.equal(tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync()[0], 3, 'computes');
});

t.test('auto falls back to wasm here and says why', async (t) => {
  const log = recorder();
  const info = await initBackend('auto', log);
  t.equal(info.name, 'wasm');
  t.equal(info.requested, 'auto');
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const e = log.entries.find((x) => x.o.package === pkg);
    t.ok(e, `${pkg} failure logged`);
    t.match(String(e?.o.err), /Cannot find (package|module)/, `${pkg}: reason given`);
  }
  const chosen = log.entries[log.entries.length - 1];
  t.equal(chosen.level, 'info');
  t.match(chosen.msg, /wasm/);
  t.equal(chosen.o.name, 'wasm');
});

t.test('tensorflow rejects clearly when tfjs-node is absent', async (t) => {
  const log = recorder();
  await t.rejects(initBackend('tensorflow', log), /@tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node could be loaded/);
  t.equal(log.entries.filter((e) => e.level === 'warn').length, 2, 'both failures logged at warn');
  t.equal(tf.getBackend(), 'wasm', 'active backend unchanged');
  t.equal(backendInfo()?.name, 'wasm');
});

t.test('cpu, then back to wasm', async (t) => {
  const info = await initBackend('cpu');
  t.equal(info.name, 'cpu');
  t.equal(tf.getBackend(), 'cpu');
  t.same(info.fixes, []);
  const again = await initBackend('wasm');
  t.equal(again.name, 'wasm');
  t.same(again.fixes, ['UnsortedSegmentSum', 'BatchMatMul', '_FusedMatMul', 'Slice', 'Unpack', 'SplitV', 'Identity', 'GatherV2']);
});

t.test('unknown preference rejects', async (t) => {
  await t.rejects(initBackend('gpu' as never), /unknown backend preference/);
});

t.test('parseBackendPreference', async (t) => {
  t.equal(parseBackendPreference(undefined), 'auto');
  t.equal(parseBackendPreference(''), 'auto');
  t.equal(parseBackendPreference(' WASM '), 'wasm');
  t.equal(parseBackendPreference('tensorflow'), 'tensorflow');
  t.throws(() => parseBackendPreference('webgl'), /expected one of auto\|tensorflow\|wasm\|cpu/);
});
