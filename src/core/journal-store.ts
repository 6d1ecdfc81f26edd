// Reading and writing one claim's view of a stored migration journal. Writes are optimistic: each
// carries the resourceVersion it was computed from; on a conflict the journal is read again and
// the change re-applied, unless the fresh journal belongs to another migration (or the caller's
// `refuse` says another run owns it).
import { ConflictProblem, StepProblem } from './errors.js';
import type { ClusterPort, StoredJournal } from './cluster.js';
import {
  claimJournal,
  newMigrationJournal,
  putClaimJournal,
  type Journal,
  type MigrationJournal,
} from './journal.js';
import { journalName, type MigrationNames } from './names.js';
import type { Labels } from './types.js';

const MAX_CONFLICT_RETRIES = 4;

/** One claim's view of a stored migration journal, with what the next write needs. */
export interface StoredClaimJournal {
  journal: Journal;
  document: MigrationJournal;
  resourceVersion: string;
}

/**
 * The view of `claim`; a journal that does not hold it (edited or copied under another name) is
 * shown as its first claim, which the identity check then refuses.
 */
export function viewOf(stored: StoredJournal, claim: string): StoredClaimJournal {
  const doc = stored.document;
  const journal = claimJournal(doc, claim) ?? claimJournal(doc, doc.claims[0]?.name ?? '');
  if (!journal) throw new StepProblem(`the journal of migration ${doc.migrationId} holds no claim`);
  return { journal, document: doc, resourceVersion: stored.resourceVersion };
}

export async function readClaimJournal(
  cluster: ClusterPort,
  namespace: string,
  claim: string,
): Promise<StoredClaimJournal | undefined> {
  const stored = await cluster.readJournal(namespace, journalName(claim));
  return stored && viewOf(stored, claim);
}

export async function createClaimJournal(
  cluster: ClusterPort,
  namespace: string,
  names: MigrationNames,
  labels: Labels,
  view: Journal,
): Promise<StoredClaimJournal> {
  const stored = await cluster.createJournal(namespace, names.journal, labels, newMigrationJournal(view));
  return viewOf(stored, view.claim.name);
}

export async function rewriteJournal(
  cluster: ClusterPort,
  namespace: string,
  names: MigrationNames,
  current: StoredClaimJournal,
  mutate: (j: Journal) => Journal,
  refuse: (fresh: Journal) => string | undefined = () => undefined,
): Promise<StoredClaimJournal> {
  const claim = current.journal.claim.name;
  let stored = current;
  for (let attempt = 0; ; attempt++) {
    try {
      const written = await cluster.replaceJournal(
        namespace,
        names.journal,
        putClaimJournal(stored.document, mutate(stored.journal)),
        stored.resourceVersion,
      );
      return viewOf(written, claim);
    } catch (err) {
      if (!(err instanceof ConflictProblem) || attempt >= MAX_CONFLICT_RETRIES) throw err;
      const fresh = await cluster.readJournal(namespace, names.journal);
      if (!fresh || fresh.document.migrationId !== names.migrationId) {
        throw new StepProblem(`journal ${names.journal} was replaced by another run`);
      }
      stored = viewOf(fresh, claim);
      const refusal = refuse(stored.journal);
      if (refusal) throw new StepProblem(refusal);
    }
  }
}
