/**
 * `seqserve generate MODEL PROMPT`: text from a language model. Plain: POST /generate, then the text.
 * --stream: a /ws `generate` frame, tokens printed as they arrive; Ctrl-C stops the generation.
 * PROMPT `-` reads the prompt from stdin.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { printJson, type Io } from '../output.ts';
import { SAMPLING_HELP, SAMPLING_OPTIONS, samplingParameters } from '../sampling.ts';
import { StreamSocket } from '../socket.ts';

export const generate: Command = {
  name: 'generate',
  summary: 'generate text from a model (--stream prints tokens as they come)',
  help: `usage: seqserve generate MODEL PROMPT [options]

MODEL is a name or name@version (seqserve models). PROMPT "-" reads it from stdin.
Prints the generated text (the continuation, without the prompt); --json prints
{generated_text, details} (with --stream: the done frame's {text, details}).

options:
  --stream                 stream tokens over the WebSocket as they are generated
${SAMPLING_HELP}`,
  options: { stream: { type: 'boolean' }, ...SAMPLING_OPTIONS },
  async run({ values, positionals, client, io, json }) {
    const [model, promptArg, ...extra] = positionals;
    if (!model) throw new UsageError('generate needs a MODEL (see seqserve models)', 'generate');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}" (quote the prompt)`, 'generate');
    if (promptArg === undefined) throw new UsageError('generate needs a PROMPT (or "-" to read it from stdin)', 'generate');
    const prompt = promptArg === '-' ? await readPrompt(io) : promptArg;
    const parameters = samplingParameters(values);

    if (!values.stream) {
      const res = await client.post<{ generated_text: string; details: unknown }>('/generate', { model, prompt, parameters });
      if (json) printJson(io, res);
      else io.stdout.write(`${res.generated_text}\n`);
      return 0;
    }
    const socket = await StreamSocket.open(client);
    const id = `gen-${randomBytes(4).toString('hex')}`;
    let interrupted = false;
    const stop = () => {
      if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the server
      interrupted = true;
      socket.cancel(id);
    };
    process.on('SIGINT', stop);
    try {
      const done = await socket.request({ type: 'generate', id, model, prompt, parameters }, (t) => {
        if (!json) io.stdout.write(t.text);
      });
      if (json) printJson(io, { text: done.text, details: done.details });
      else io.stdout.write('\n');
      return done.details.finish_reason === 'cancelled' ? 130 : 0;
    } finally {
      process.off('SIGINT', stop);
      socket.close();
    }
  },
};

async function readPrompt(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new UsageError('the prompt read from stdin is empty', 'generate');
  return text;
}
