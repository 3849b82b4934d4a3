/** One yes/no question on the terminal (or whatever stdin is): resolves true only for y/yes; EOF or a second Ctrl-C is no. */
import readline from 'node:readline';
import type { Io } from './output.ts';

export function askYesNo(io: Io, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const terminal = io.stdin.isTTY === true && io.stderr.isTTY === true;
    const rl = readline.createInterface({ input: io.stdin, output: io.stderr, terminal });
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    rl.on('SIGINT', () => {
      io.stderr.write('\n');
      finish(false);
    });
    rl.on('close', () => finish(false));
    rl.question(question, (answer) => {
      if (!terminal) io.stderr.write(`${answer}\n`); // a piped answer is not echoed: show it
      finish(/^\s*y(es)?\s*$/i.test(answer));
    });
  });
}
