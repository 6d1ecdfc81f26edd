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
  /** The ConfigMap it is stored in. */
  name: string;
}

/**
 * The view of `claim`; a journal that does not hold it (edited or copied under another name) is
 * shown as its first claim, which the identity check then refuses.
 */
export function viewOf(stored: StoredJournal, claim: string, name: string): StoredClaimJournal {
  const doc = stored.document;
  const journal = claimJournal(doc, claim) ?? claimJournal(doc, doc.claims[0]?.name ?? '');
  if (!journal) throw new StepProblem(`the journal of migration ${doc.migrationId} holds no claim`);
  return { journal, document: doc, resourceVersion: stored.resourceVersion, name };
}

/**
 * The journal of the claim's migration: the one named after the claim (a single move), else a
 * batch journal that holds it. A rolled-back migration is only returned when there is no other.
 */
export async function readClaimJournal(
  cluster: ClusterPort,
  namespace: string,
  claim: string,
): Promise<StoredClaimJournal | undefined> {
  const stored = await cluster.readJournal(namespace, journalName(claim));
  if (stored && stored.document.phase !== 'rolled-back') return viewOf(stored, claim, journalName(claim));
  const batch = (await cluster.listJournals(namespace)).find(
    (e) =>
      e.name !== journalName(claim) &&
      e.document?.phase !== 'rolled-back' &&
      e.document?.claims.some((c) => c.name === claim),
  );
  if (batch?.document) {
    const fresh = await cluster.readJournal(namespace, batch.name);
    if (fresh) return viewOf(fresh, claim, batch.name);
  }
  return stored && viewOf(stored, claim, journalName(claim));
}

/** The ConfigMap a claim's migration journal is stored in (see readClaimJournal). */
export async function journalNameOf(cluster: ClusterPort, namespace: string, claim: string): Promise<string> {
  const own = await cluster.readJournal(namespace, journalName(claim));
  if (own && own.document.phase !== 'rolled-back') return journalName(claim);
  const batch = (await cluster.listJournals(namespace)).find(
    (e) => e.document?.phase !== 'rolled-back' && e.document?.claims.some((c) => c.name === claim),
  );
  return batch?.name ?? journalName(claim);
}

export async function rewriteJournal(
  cluster: ClusterPort,
  namespace: string,
  names: Pick<MigrationNames, 'journal' | 'migrationId'>,
  current: StoredClaimJournal,
  mutate: (j: Journal) => Journal,
  refuse: (fresh: Journal) => string | undefined = () => undefined,
): Promise<StoredClaimJournal> {
  const claim = current.journal.claim.name;
  const view = (doc: MigrationJournal): Journal =>
    doc === current.document
      ? current.journal
      : viewOf({ document: doc, resourceVersion: '' }, claim, names.journal).journal;
  const written = await rewriteDocument(
    cluster,
    namespace,
    names,
    current,
    (doc) => putClaimJournal(doc, mutate(view(doc))),
    (doc) => refuse(view(doc)),
  );
  return viewOf(written, claim, names.journal);
}

/**
 * The stored document changed by `compose` and written with the resourceVersion it was read at; on
 * a conflict it is read again and `compose` applied again, unless it now belongs to another
 * migration or `refuse` objects to it (another run took it over).
 */
export async function rewriteDocument(
  cluster: ClusterPort,
  namespace: string,
  names: Pick<MigrationNames, 'journal' | 'migrationId'>,
  current: StoredJournal,
  compose: (doc: MigrationJournal) => MigrationJournal,
  refuse: (fresh: MigrationJournal) => string | undefined,
): Promise<StoredJournal> {
  let stored = current;
  for (let attempt = 0; ; attempt++) {
    try {
      return await cluster.replaceJournal(
        namespace,
        names.journal,
        compose(stored.document),
        stored.resourceVersion,
      );
    } catch (err) {
      if (!(err instanceof ConflictProblem) || attempt >= MAX_CONFLICT_RETRIES) throw err;
      const fresh = await cluster.readJournal(namespace, names.journal);
      if (!fresh || fresh.document.migrationId !== names.migrationId) {
        throw new StepProblem(`journal ${names.journal} was replaced by another run`);
      }
      const refusal = refuse(fresh.document);
      if (refusal) throw new StepProblem(refusal);
      stored = fresh;
    }
  }
}

/** A claim's change waiting for the next write of the journal. */
interface PendingUpdate {
  claim: string;
  mutate: (j: Journal) => Journal;
  resolve: (j: Journal) => void;
  reject: (err: unknown) => void;
}

/**
 * The journal of one migration as this run holds it: every claim's step reads its own view, and
 * every write goes through here one at a time (the claims of a batch write concurrently; the
 * ConfigMap takes one write per resourceVersion), with the optimistic retry of rewriteJournal.
 *
 * The changes that arrive while a write is under way go together into the next one (a group
 * commit): a batch of 50 claims otherwise rewrites its whole journal, which grows with the claims,
 * once per claim and step record, and that traffic was most of the batch's API bytes and garbage.
 * Each caller still resumes only once its own change is stored.
 */
export class JournalHandle {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: PendingUpdate[] = [];

  constructor(
    private readonly cluster: ClusterPort,
    readonly namespace: string,
    readonly names: Pick<MigrationNames, 'journal' | 'migrationId'>,
    private stored: StoredJournal | undefined,
    /** Another run's change that this run must not overwrite (a rollback started meanwhile). */
    private readonly refuse: (fresh: Journal) => string | undefined = () => undefined,
  ) {}

  get document(): MigrationJournal | undefined {
    return this.stored?.document;
  }

  view(claim: string): Journal | undefined {
    return this.stored ? claimJournal(this.stored.document, claim) : undefined;
  }

  private serially<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  update(claim: string, mutate: (j: Journal) => Journal): Promise<Journal> {
    return new Promise<Journal>((resolve, reject) => {
      this.pending.push({ claim, mutate, resolve, reject });
      // The first change of a group queues the write that will take the whole group.
      if (this.pending.length === 1) void this.serially(() => this.writePending());
    });
  }

  /** Writes every waiting change in one replace (retried on conflict), in the order they came. */
  private async writePending(): Promise<void> {
    const group = this.pending;
    this.pending = [];
    const stored = this.stored;
    if (!stored) {
      for (const u of group) u.reject(new StepProblem('the journal does not exist yet'));
      return;
    }
    // A change that throws fails its own caller only; the others are written. On a conflict the
    // group is applied again to the fresh journal, so what failed is decided anew each time.
    let failed = new Map<PendingUpdate, unknown>();
    try {
      const next = await rewriteDocument(
        this.cluster,
        this.namespace,
        this.names,
        stored,
        (doc) => {
          failed = new Map();
          let out = doc;
          for (const u of group) {
            const current = claimJournal(out, u.claim);
            if (!current) {
              failed.set(u, new StepProblem(`the journal does not hold claim ${u.claim}`));
              continue;
            }
            try {
              out = putClaimJournal(out, u.mutate(current));
            } catch (err) {
              failed.set(u, err);
            }
          }
          return out;
        },
        (doc) => {
          for (const u of group) {
            const fresh = claimJournal(doc, u.claim);
            const refusal = fresh && this.refuse(fresh);
            if (refusal) return refusal;
          }
          return undefined;
        },
      );
      this.stored = next;
      for (const u of group) {
        if (failed.has(u)) u.reject(failed.get(u));
        else {
          const written = claimJournal(next.document, u.claim);
          if (written) u.resolve(written);
          else u.reject(new StepProblem(`the journal does not hold claim ${u.claim}`));
        }
      }
    } catch (err) {
      for (const u of group) u.reject(failed.get(u) ?? err);
    }
  }

  /** Writes a claim's first record: creates the journal, or adds the claim to it. */
  add(view: Journal, labels: Labels, beforeCreate?: () => Promise<void>): Promise<Journal> {
    return this.serially(async () => {
      if (!this.stored) {
        await beforeCreate?.();
        this.stored = await this.cluster.createJournal(
          this.namespace,
          this.names.journal,
          labels,
          newMigrationJournal(view),
        );
      } else {
        const doc = putClaimJournal(this.stored.document, view);
        this.stored = await this.cluster.replaceJournal(
          this.namespace,
          this.names.journal,
          doc,
          this.stored.resourceVersion,
        );
      }
      const written = claimJournal(this.stored.document, view.claim.name);
      if (!written) throw new StepProblem(`the journal does not hold claim ${view.claim.name}`);
      return written;
    });
  }
}
