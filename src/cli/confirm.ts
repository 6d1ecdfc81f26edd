// The y/N question before a migration starts on an interactive terminal.
import { createInterface } from 'node:readline/promises';
import type { Io } from './render/types.js';

export function isInteractive(io: Io): boolean {
  return Boolean(io.stdin.isTTY && io.stdout.isTTY);
}

export async function confirm(io: Io, question: string): Promise<boolean> {
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
