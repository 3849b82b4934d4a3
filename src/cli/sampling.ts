/** The sampling options shared by `generate` and `chat`, turned into the request's `parameters`. */
import { list, num, type OptionSpec, type Values } from './args.ts';

export const SAMPLING_OPTIONS = {
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  greedy: { type: 'boolean' },
} as const satisfies OptionSpec;

export const SAMPLING_HELP = `  --max-new-tokens N       tokens to generate at most
  --temperature T          sampling temperature
  --top-k K, --top-p P     sample from the K most likely tokens / the nucleus of mass P
  --repetition-penalty R   penalise tokens already generated
  --seed N                 seed for reproducible sampling
  --stop TEXT              stop when TEXT is generated (repeatable)
  --greedy                 always pick the most likely token (do_sample false)`;

/** `parameters` for the request: only what was given (the server applies its defaults and limits). */
export function samplingParameters(values: Values): Record<string, unknown> {
  const p: Record<string, unknown> = {
    max_new_tokens: num(values, 'max-new-tokens', { integer: true }),
    temperature: num(values, 'temperature'),
    top_k: num(values, 'top-k', { integer: true }),
    top_p: num(values, 'top-p'),
    repetition_penalty: num(values, 'repetition-penalty'),
    seed: num(values, 'seed', { integer: true }),
    stop: list(values, 'stop').length ? list(values, 'stop') : undefined,
    do_sample: values.greedy === true ? false : undefined,
  };
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}
