/** What a `seqserve` subcommand is: its options, its help text and what it runs (→ exit code). */
import type { OptionSpec, Parsed } from './args.ts';
import type { ApiClient } from './client.ts';
import type { Io } from './output.ts';

export interface CommandContext extends Parsed {
  client: ApiClient;
  io: Io;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `seqserve <name> --help`: usage line(s) and the command's own options (global ones are appended). */
  help: string;
  options: OptionSpec;
  run(ctx: CommandContext): Promise<number>;
}
