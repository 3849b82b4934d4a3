import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
console.log(Object.keys(wasm));
const t0 = Date.now();
const ok = await tf.setBackend('wasm');
await tf.ready();
console.log(ok, tf.getBackend(), Date.now()-t0, 'ms', tf.env().getFlags(), (wasm as any).getThreadsCount?.());
console.log(tf.engine().registryFactory ? Object.keys(tf.engine().registryFactory) : '', tf.getKernel('UnsortedSegmentSum','wasm'), tf.getKernel('UnsortedSegmentSum','cpu') != null);
const b = tf.backend() as any; console.log(b.wasm.HEAPU8.length, Object.keys(b.wasm).filter(k=>k.startsWith('_')).slice(0,200).join(' '));
