// The journal is written with optimistic concurrency: every write carries the resourceVersion it
// was computed from. On a conflict the journal is read again and the change re-applied, unless the
// fresh journal belongs to another migration (or the caller's `refuse` says another run owns it).
import { ConflictProblem, StepProblem } from './errors.js';
import type { ClusterPort, StoredJournal } from './cluster.js';
import type { Journal } from './journal.js';
import type { MigrationNames } from './names.js';

const MAX_CONFLICT_RETRIES = 4;

export async function rewriteJournal(
  cluster: ClusterPort,
  namespace: string,
  names: MigrationNames,
  current: StoredJournal,
  mutate: (j: Journal) => Journal,
  refuse: (fresh: Journal) => string | undefined = () => undefined,
): Promise<StoredJournal> {
  let stored = current;
  for (let attempt = 0; ; attempt++) {
    try {
      return await cluster.replaceJournal(
        namespace,
        names.journal,
        mutate(stored.journal),
        stored.resourceVersion,
      );
    } catch (err) {
      if (!(err instanceof ConflictProblem) || attempt >= MAX_CONFLICT_RETRIES) throw err;
      const fresh = await cluster.readJournal(namespace, names.journal);
      if (!fresh || fresh.journal.migrationId !== names.migrationId) {
        throw new StepProblem(`journal ${names.journal} was replaced by another run`);
      }
      const refusal = refuse(fresh.journal);
      if (refusal) throw new StepProblem(refusal);
      stored = fresh;
    }
  }
}
