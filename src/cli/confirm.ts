// The y/N question before a command changes anything, on an interactive terminal.
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.js';
import type { Io } from './render/types.js';

export function isInteractive(io: Io): boolean {
  return Boolean(io.stdin.isTTY && io.stdout.isTTY);
}

async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: io.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false; // Ctrl-C or closed input: no
  } finally {
    rl.close();
  }
}

/** Asks `question`; anything but yes stops the command before it changed anything. */
export async function confirmOrStop(io: Io, question: string, rerun: string): Promise<void> {
  if (!(await confirm(io, question))) {
    throw new UsageError('not confirmed; nothing was changed', `Run \`${rerun}\` again, or add --yes.`);
  }
}
