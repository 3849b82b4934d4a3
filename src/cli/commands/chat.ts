/**
 * `seqserve chat MODEL`: an interactive, streaming conversation over /ws `chat` frames with a
 * `session`: the first turn sends the conversation (`messages`), later turns only the new `message`,
 * so the server runs only the new tokens. The CLI also keeps the history, so when the server has
 * dropped the session (410 session_expired) or a reply was cut short, the turn is resent whole.
 * Lines starting with "/" are commands: /exit, /reset, /help. Ctrl-C stops a reply; at the prompt it quits.
 */
import { randomBytes } from 'node:crypto';
import readline from 'node:readline';
import { UsageError, str } from '../args.ts';
import { ApiError } from '../client.ts';
import type { Command } from '../command.ts';
import { formatError } from '../output.ts';
import { SAMPLING_HELP, SAMPLING_OPTIONS, samplingParameters } from '../sampling.ts';
import { StreamSocket, type DoneFrame } from '../socket.ts';

interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Errors after which no further turn can succeed. */
const FATAL = new Set(['model_not_found', 'version_not_found', 'invalid_model_name', 'model_task_mismatch', 'invalid_api_key', 'insufficient_scope']);
/** The server no longer holds the session's state: resend the whole conversation. */
const SESSION_GONE = new Set(['session_expired', 'session_not_found']);

const newSessionId = () => `cli-${randomBytes(6).toString('hex')}`;

export const chat: Command = {
  name: 'chat',
  summary: 'chat with a chat model (interactive, streaming, keeps a session)',
  help: `usage: seqserve chat MODEL [--system TEXT] [--session ID] [options]

Reads your messages line by line from stdin (a terminal or a pipe) and streams each reply.
The server keeps the model's state between turns under a session id, so each turn costs only
its new tokens. In the conversation:  /reset  starts over (new session)   /exit  quits (or Ctrl-D).
Ctrl-C stops a reply that is being generated. --json prints one JSON line per turn:
{session, text, details} (details.cached_tokens: prompt tokens served from the kept state).

options:
  --system TEXT            a system message opening the conversation
  --session ID             use this session id (kept on exit; default: a new one, deleted on exit)
${SAMPLING_HELP}`,
  options: { system: { type: 'string' }, session: { type: 'string' }, ...SAMPLING_OPTIONS },
  async run({ values, positionals, client, io, json }) {
    const [model, ...extra] = positionals;
    if (!model) throw new UsageError('chat needs a MODEL (a chat model: seqserve models)', 'chat');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, 'chat');
    const parameters = samplingParameters(values);
    const system = str(values, 'system');
    const ownSession = str(values, 'session') === undefined;
    let session = str(values, 'session') ?? newSessionId();
    const opening = (): Message[] => (system ? [{ role: 'system', content: system }] : []);
    let history = opening();
    /** True while the server's session state matches `history` (then a turn sends only `message`). */
    let sessionLive = false;

    const socket = await StreamSocket.open(client);
    const tty = io.stdin.isTTY === true && io.stdout.isTTY === true;
    const rl = readline.createInterface({ input: io.stdin, output: tty ? io.stdout : undefined, terminal: tty });
    rl.setPrompt('> ');
    let current: string | undefined;
    const interrupt = () => {
      if (current) socket.cancel(current);
      else rl.close();
    };
    rl.on('SIGINT', interrupt);
    process.on('SIGINT', interrupt);
    const prompt = () => tty && rl.prompt();

    let printed = false; // whether the current turn has written tokens
    const turn = async (frame: Record<string, unknown>): Promise<DoneFrame> => {
      const id = `turn-${randomBytes(4).toString('hex')}`;
      current = id;
      try {
        return await socket.request({ type: 'chat', id, model, session, parameters, ...frame }, (t) => {
          if (json) return;
          io.stdout.write(t.text);
          printed = true;
        });
      } finally {
        current = undefined;
      }
    };

    let exitCode = 0;
    try {
      if (tty && !json) io.stdout.write(`chatting with ${model} (session ${session}); /reset starts over, /exit or Ctrl-D quits\n`);
      prompt();
      for await (const line of rl) {
        const text = line.trim();
        if (text === '') {
          prompt();
          continue;
        }
        if (text === '/exit' || text === '/quit') break;
        if (text === '/reset') {
          if (sessionLive && ownSession) await client.delete(`/sessions/${session}`).catch(() => undefined);
          session = newSessionId();
          history = opening();
          sessionLive = false;
          if (!json) io.stderr.write(`(new conversation, session ${session})\n`);
          prompt();
          continue;
        }
        if (text.startsWith('/')) {
          io.stderr.write(text === '/help' ? '/reset starts a new conversation; /exit quits\n' : `unknown command ${text} (/reset, /exit, /help)\n`);
          prompt();
          continue;
        }
        history.push({ role: 'user', content: line });
        printed = false;
        let done: DoneFrame;
        try {
          try {
            done = await turn(sessionLive ? { message: line } : { messages: history });
          } catch (err) {
            if (!(err instanceof ApiError && SESSION_GONE.has(err.code) && sessionLive)) throw err;
            done = await turn({ messages: history }); // the server lost the session: resend the whole conversation
          }
        } catch (err) {
          history.pop();
          if (printed) io.stdout.write('\n');
          io.stderr.write(`${formatError(err)}\n`);
          exitCode = 1;
          if (!(err instanceof ApiError) || FATAL.has(err.code)) break;
          prompt();
          continue;
        }
        history.push({ role: 'assistant', content: done.text });
        // A reply cut short (Ctrl-C) may not be what the session kept: resend the history next turn.
        sessionLive = done.details.finish_reason !== 'cancelled';
        if (json) io.stdout.write(`${JSON.stringify({ session, text: done.text, details: done.details })}\n`);
        else io.stdout.write(tty ? '\n\n' : '\n');
        prompt();
      }
    } finally {
      process.off('SIGINT', interrupt);
      rl.close();
      if (ownSession && sessionLive) await client.delete(`/sessions/${session}`).catch(() => undefined);
      socket.close();
    }
    return exitCode;
  },
};
