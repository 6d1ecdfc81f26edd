// `kubectl pvmove status [claim]` and `kubectl pvmove list [-A]`: what the journals say, the step
// each migration is at and the command to run next. Read-only; -o json prints one JSON document.
import type { Argv, CommandModule } from 'yargs';
import { PreflightError } from '../../core/errors.js';
import { statusesOf, statusTable, statusText } from '../../core/status.js';
import { connectAfterFlags } from '../command-frame.js';
import { withKubeFlags } from '../flags.js';
import type { Io } from '../render/types.js';
import { completeStatusRequest, type StatusArgv } from '../request.js';

export async function runStatus(argv: StatusArgv, io: Io): Promise<void> {
  const { connection, ...r } = await connectAfterFlags(argv, io, completeStatusRequest);
  const json = r.output === 'json';
  if (r.claim && r.namespace) {
    const entries = await connection.cluster.listJournals(r.namespace);
    const s = entries.flatMap((e) => statusesOf(e, r.kubeArgs)).find((x) => x.claim === r.claim);
    if (!s) {
      throw new PreflightError(
        `no migration of claim ${r.claim} is recorded in namespace ${r.namespace}`,
        `kubectl pvmove list -n ${r.namespace}`,
      );
    }
    io.stdout.write(json ? `${JSON.stringify(s, null, 2)}\n` : statusText(s));
    return;
  }
  const rows = (await connection.cluster.listJournals(r.namespace))
    .flatMap((e) => statusesOf(e, r.kubeArgs))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.claim.localeCompare(b.claim));
  io.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : statusTable(rows, r.namespace === undefined));
}

const builder = (y: Argv) =>
  withKubeFlags(y)
    .positional('claim', { type: 'string', describe: 'Name of the PersistentVolumeClaim' })
    .option('all-namespaces', {
      alias: 'A',
      type: 'boolean',
      describe: 'Migrations in every namespace',
    }) as unknown as Argv<StatusArgv>;

export const statusCommand: CommandModule<object, StatusArgv> = {
  command: 'status [claim]',
  describe: 'Show the migration of a claim (or all in the namespace): phase, step, next command',
  builder,
  handler: () => undefined,
};

export const listCommand: CommandModule<object, StatusArgv> = {
  command: 'list',
  describe: 'List migrations recorded in the namespace (-A: all namespaces)',
  builder,
  handler: () => undefined,
};
