// A batch: several claims moved as one migration (a whole StatefulSet, claims by label or by class,
// several names). One journal holds every claim; the claims walk the itinerary in lockstep, so every
// owner is stopped once (the first claim's scale-down stops it, the others find it stopped) and
// started once, after every claim is on its new volume. The copies run side by side (--parallel).
// A failure of one claim stops the batch after the step every claim was at: a re-run continues all
// of them, a rollback returns all of them.
import type { Plan } from './plan.js';
import type { Prepared } from './runner.js';
import type { StoredJournal } from './cluster.js';
import type { TemplateRecord } from './journal.js';
import type { MigrationRequest } from './types.js';

export interface BatchRequest {
  /** What every claim is moved with (class, size, verification, copy options, timeouts), and the
   * commands to print: they name the selection (e.g. `kubectl pvmove statefulset/db ...`). Its
   * `claim` is the first claim's name. */
  base: MigrationRequest;
  /** The claims, in the namespace of `base`. */
  claims: string[];
  /** How many claims copy at the same time. */
  parallel: number;
  /** Rewrite the volumeClaimTemplates of StatefulSets whose every claim is in the batch. */
  rewriteTemplates: boolean;
}

export interface PreparedBatch {
  migrationId: string;
  /** The ConfigMap of the batch's journal. */
  journalName: string;
  stored?: StoredJournal;
  /** Every claim to move, each prepared as a single move would be (its plan included). */
  claims: Prepared[];
  /** Claims that already have the class and size asked for: left out, with why. */
  skipped: { claim: string; message: string }[];
  /** The StatefulSet templates the batch rewrites (empty with --keep-template). */
  templates: TemplateRecord[];
  /** The plans of the claims, in order, and the notes of the whole batch. */
  plans: Plan[];
  notes: string[];
}
export const BATCH_PARALLEL_DEFAULT = 4;
