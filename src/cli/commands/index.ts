// Every command of the CLI, in help order. Completion reads its flags from here, so a new command
// is completed as soon as it is listed.
import type { CommandModule } from 'yargs';
import { cleanupCommand } from './cleanup.js';
import { completionCommand } from './completion.js';
import { moveCommand } from './move.js';
import { resumeCommand } from './resume.js';
import { rollbackCommand } from './rollback.js';
import { listCommand, statusCommand } from './status.js';

type AnyCommand = CommandModule<object, never>;

export const COMMANDS: AnyCommand[] = [
  moveCommand,
  cleanupCommand,
  resumeCommand,
  rollbackCommand,
  statusCommand,
  listCommand,
  completionCommand,
] as unknown as AnyCommand[];
