import { round } from '/work/main/bench/lib/ws-round.ts';
const url = 'ws://127.0.0.1:18555/ws';
await round(url, { n: 1, maxTokens: 20, timeoutMs: 60000, idPrefix: 'w', model: 'kjv-char' });
const t0 = performance.now();
const r = await round(url, { n: 32, maxTokens: 600, timeoutMs: 120000, idPrefix: 'x', model: 'kjv-char' });
const got = r.reduce((a, x) => a + x.tokenTimes.length, 0);
console.log('agg tok/s', (got / ((performance.now() - t0) / 1000)).toFixed(0));
