/**
 * `seqserve`: the command line (package bin: bin/seqserve.js runs this file through tsx).
 * `seqserve <command> [args] [options]`; each command lives in src/cli/commands/ and talks to a
 * server over HTTP and /ws (src/cli/client.ts, src/cli/socket.ts), except serve and worker, which
 * run the API and worker entries. Exit codes: 0 ok, 1 error (printed as one line on stderr),
 * 2 bad command line; `train --follow` adds 1 for a failed or cancelled job and 130 for a detach.
 */
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { GLOBAL_HELP, UsageError, parseCommandLine } from './cli/args.ts';
import { ApiClient } from './cli/client.ts';
import type { Command } from './cli/command.ts';
import { formatError, type Io } from './cli/output.ts';
import { serve } from './cli/commands/serve.ts';
import { worker } from './cli/commands/worker.ts';
import { train } from './cli/commands/train.ts';
import { generate } from './cli/commands/generate.ts';
import { chat } from './cli/commands/chat.ts';
import { models } from './cli/commands/models.ts';
import { jobs } from './cli/commands/jobs.ts';
import { evaluate } from './cli/commands/evaluate.ts';

export const COMMANDS: Command[] = [serve, worker, train, jobs, models, generate, chat, evaluate];

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: seqserve <command> [arguments] [options]

Train small sequence models and use them, against a seqserve server.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${GLOBAL_HELP}

\`seqserve <command> --help\` describes a command. Docs: docs/cli.md
`;
}

/** Runs one command line; resolves with the exit code (errors are printed, never thrown). */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? `${topic.help}\n\n${GLOBAL_HELP}\n` : overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${await version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const parsed = parseCommandLine(command.name, rest, command.options, io.env);
    if (parsed.help) {
      io.stdout.write(`${command.help}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    return await command.run({ ...parsed, client: new ApiClient(parsed.url, parsed.apiKey), io });
  } catch (err) {
    if (err instanceof UsageError && command && !err.command) Object.assign(err, { command: command.name });
    io.stderr.write(`${formatError(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `seqserve ${pkg.version}`;
}

/** Runs `seqserve` for this process's argv and sets its exit code. */
export async function runProcess(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
  // A question read from a piped stdin (Ctrl-C during --follow) leaves the pipe open and the process alive.
  process.stdin.destroy();
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url)) await runProcess();
