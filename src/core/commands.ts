// The commands printed in messages ("... Re-run `kubectl pvmove data -n shop --to-class fast` to
// resume."), built in one place so every message names the same command.
import type { Journal } from './journal.js';

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface CommandInput {
  claim: string;
  /** What the move command names instead of the claim, as the user typed it (a batch: `statefulset/db`,
   * `-l app=kafka`, several names). Only the move command uses it: rollback, status and cleanup name
   * the claim. */
  target?: string[];
  namespace: string;
  toClass?: string;
  size?: string;
  /** --context/--kubeconfig as the user gave them, so the printed command targets the same cluster. */
  kubeArgs: string[];
  /** Other move flags the user gave (--image, --copy-*, --verify, --timeout-*...), repeated on resume. */
  moveArgs?: string[];
}

export function moveCommand(c: CommandInput): string {
  const args = ['kubectl', 'pvmove', ...(c.target ?? [c.claim]), '-n', c.namespace];
  if (c.toClass) args.push('--to-class', c.toClass);
  if (c.size) args.push('--size', c.size);
  return [...args, ...(c.moveArgs ?? []), ...c.kubeArgs].map(quote).join(' ');
}

/**
 * The move a journal recorded (its claim, class and size), to resume or finish it; with the
 * connection flags and move flags of this run.
 */
export function resumeCommandFor(j: Journal, args: Pick<CommandInput, 'kubeArgs' | 'moveArgs'>): string {
  // A batch is resumed as a whole, by the selection it was started with.
  if (j.resume) return j.resume;
  return moveCommand({
    claim: j.claim.name,
    namespace: j.claim.namespace,
    toClass: j.request.toClass,
    size: j.request.size,
    kubeArgs: args.kubeArgs,
    moveArgs: args.moveArgs,
  });
}

export function cleanupCommand(c: CommandInput): string {
  return ['kubectl', 'pvmove', 'cleanup', c.claim, '-n', c.namespace, ...c.kubeArgs].map(quote).join(' ');
}

export function rollbackCommand(c: CommandInput): string {
  return ['kubectl', 'pvmove', 'rollback', c.claim, '-n', c.namespace, ...c.kubeArgs].map(quote).join(' ');
}

export function statusCommand(c: CommandInput): string {
  return ['kubectl', 'pvmove', 'status', c.claim, '-n', c.namespace, ...c.kubeArgs].map(quote).join(' ');
}

export interface Commands {
  resume: string;
  cleanup: string;
  /** Undoes the migration (src/core/rollback.ts). */
  rollback: string;
  kubeArgs: string[];
  moveArgs: string[];
}

export function commandsFor(c: CommandInput): Commands {
  return {
    resume: moveCommand(c),
    cleanup: cleanupCommand(c),
    rollback: rollbackCommand(c),
    kubeArgs: [...c.kubeArgs],
    moveArgs: [...(c.moveArgs ?? [])],
  };
}
