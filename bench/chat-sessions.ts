/**
 * Chat sessions through the real server: time to first token per turn over a 10-turn conversation,
 * with a session (each turn sends only the new user message; the server runs only its tokens from
 * the state kept at the end of the last turn) vs stateless (each turn sends the whole history,
 * which the server re-reads). The server runs as a child process over the repo's models/ folder;
 * one client socket drives both conversations turn by turn, interleaved (session turn k, then
 * stateless turn k), so both see the same machine load. Replies are greedy, so both conversations
 * are the same text; each turn's prompt size (input_tokens) and the tokens served from the kept
 * state (cached_tokens) come from the done frames. Reported: TTFT median over --rounds runs per
 * turn, and the server's live tensors before and after (sessions deleted at the end).
 *
 *   node --import tsx bench/chat-sessions.ts [--model freedroid-chat] [--turns 10] [--rounds 3] [--tokens 48]
 */
import WebSocket from 'ws';
import { arg, serverStats, startServerProcess } from './lib/server-process.ts';

const model = arg('model', 'freedroid-chat');
const turns = Number(arg('turns', '10'));
const rounds = Number(arg('rounds', '3'));
const maxTokens = Number(arg('tokens', '48'));
const USER_LINES = [
  'Hello! I am new here.', 'What is this place?', 'Who are you, and what do you do here?', 'Are the bots dangerous?',
  'Where can I find some food and a place to rest?', 'Can you tell me about the Red Guard?', 'I need a weapon. Do you sell anything?',
  'What happened during the Great Assault?', 'Is there anything I can do to help the town?', 'Thank you. Goodbye!',
];

interface Turn { ttftMs: number; inputTokens: number; cachedTokens: number; text: string }

const server = await startServerProcess({ tmpPrefix: 'bench-chat', env: { MAX_SESSIONS: '100' } });
const ws = new WebSocket(server.wsUrl);
await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
let seq = 0;
/** Sends one chat frame; resolves at its done frame with the client-side time to the first token frame. */
function chat(frame: Record<string, unknown>): Promise<Turn> {
  const id = `t${++seq}`;
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    let first: number | undefined;
    const onMessage = (raw: WebSocket.RawData) => {
      const f = JSON.parse(String(raw));
      if (f.id !== id) return;
      if (f.type === 'token') first ??= performance.now();
      else if (f.type === 'done') {
        ws.off('message', onMessage);
        resolve({ ttftMs: (first ?? performance.now()) - sent, inputTokens: f.details.input_tokens, cachedTokens: f.details.cached_tokens ?? 0, text: f.text });
      } else if (f.type === 'error') {
        ws.off('message', onMessage);
        reject(new Error(JSON.stringify(f.error)));
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'chat', id, model, ...frame }));
  });
}

const params = { do_sample: false, max_new_tokens: maxTokens };
const before = await serverStats(server.base);
// Warm-up: loads the model and runs the code paths once.
await chat({ messages: [{ role: 'user', content: 'hi' }], parameters: params });
const session: Turn[][] = Array.from({ length: turns }, () => []);
const stateless: Turn[][] = Array.from({ length: turns }, () => []);
for (let r = 0; r < rounds; r++) {
  const sid = `bench-${r}`;
  const history: Array<{ role: string; content: string }> = [{ role: 'system', content: 'You are Francis.' }];
  for (let k = 0; k < turns; k++) {
    const user = USER_LINES[k % USER_LINES.length]!;
    const s = await chat(k === 0 ? { messages: [...history, { role: 'user', content: user }], session: sid, parameters: params } : { message: user, session: sid, parameters: params });
    history.push({ role: 'user', content: user });
    const full = await chat({ messages: history, parameters: params });
    if (full.text !== s.text) throw new Error(`turn ${k + 1}: the session reply differs from the stateless one`);
    history.push({ role: 'assistant', content: full.text });
    session[k]!.push(s);
    stateless[k]!.push(full);
  }
  await fetch(`${server.base}/sessions/${sid}`, { method: 'DELETE' });
}
const after = await serverStats(server.base);
ws.close();
await server.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`model ${model}, greedy, max_new_tokens ${maxTokens}, ${rounds} rounds; backend ${server.health.backend?.name ?? '?'}`);
console.log('| turn | prompt tokens | from kept state | TTFT with session (ms) | TTFT stateless (ms) | stateless / session |');
console.log('|---|---|---|---|---|---|');
for (let k = 0; k < turns; k++) {
  const a = median(session[k]!.map((t) => t.ttftMs));
  const b = median(stateless[k]!.map((t) => t.ttftMs));
  console.log(`| ${k + 1} | ${session[k]![0]!.inputTokens} | ${session[k]![0]!.cachedTokens} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× |`);
}
const t1 = median(session[0]!.map((t) => t.ttftMs));
const t10 = median(session[turns - 1]!.map((t) => t.ttftMs));
console.log(`\nwith a session: turn ${turns} / turn 1 TTFT = ${(t10 / t1).toFixed(2)}; stateless: ${(median(stateless[turns - 1]!.map((t) => t.ttftMs)) / median(stateless[0]!.map((t) => t.ttftMs))).toFixed(2)}`);
console.log(`server tensors before ${before.tensors}, after (sessions deleted, model loaded) ${after.tensors}`);
