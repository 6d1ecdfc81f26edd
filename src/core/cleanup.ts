// `kubectl pvmove cleanup`: after a finished migration, release the retained source PV according
// to its original reclaim policy and delete the journal. The only place a migration's source PV is
// ever deleted (invariant 5), and only on request.
import type { ClusterPort } from './cluster.js';
import { resumeCommandFor } from './commands.js';
import { ConflictProblem, PreflightError, StepFailedError, describe } from './errors.js';
import type { Emit } from './events.js';
import { journalName } from './names.js';
import { readJournalOrRefuse } from './runner.js';
import { reclaimPolicyPatch } from './manifests.js';
import { sourcePvProblem } from './trust.js';
import type { CleanupRequest } from './types.js';

export interface CleanupTarget {
  migrationId: string;
  sourcePv: string;
  sourcePolicy: string;
  targetPv: string;
  /** The journal's ConfigMap: deleted with its last claim (a batch keeps the claims not cleaned up yet). */
  journal: string;
  /** The other claims of a batch that are still in the journal. */
  otherClaims: string[];
}

/** Checks that cleanup is safe; returns what it would delete. Read-only. */
export async function prepareCleanup(req: CleanupRequest, cluster: ClusterPort): Promise<CleanupTarget> {
  const rerun = req.commands.cleanup;
  const stored = await readJournalOrRefuse(cluster, req.namespace, req.claim, 'Nothing was changed.');
  if (!stored) {
    throw new PreflightError(
      `no migration of claim ${req.claim} is recorded in namespace ${req.namespace} (no ConfigMap ${journalName(req.claim)})`,
      rerun,
    );
  }
  const j = stored.journal;
  if (j.phase === 'rolled-back' || j.phase === 'rolling-back') {
    throw new PreflightError(
      `migration ${j.migrationId} of claim ${req.claim} was ${j.phase === 'rolled-back' ? 'rolled back' : 'being rolled back'}; cleanup only follows a finished move (run \`${req.commands.rollback}\` to finish a rollback)`,
      rerun,
    );
  }
  if (j.phase !== 'finished' || !j.original.targetPv) {
    const resume = resumeCommandFor(j, req.commands);
    throw new PreflightError(
      `migration ${j.migrationId} of claim ${req.claim} is not finished; finish it with \`${resume}\``,
      rerun,
    );
  }
  const claim = await cluster.getPvc(req.namespace, req.claim);
  if (claim?.spec?.volumeName !== j.original.targetPv.name || claim.status?.phase !== 'Bound') {
    throw new PreflightError(
      `claim ${req.claim} is not bound to the target PV ${j.original.targetPv.name}; refusing to delete the source PV ${j.original.sourcePv.name}`,
      rerun,
    );
  }
  const source = await cluster.getPv(j.original.sourcePv.name);
  // The journal is only a ConfigMap: the PV must say itself that it is this claim's, this migration's.
  const foreign = sourcePvProblem(source, j, req.namespace, true);
  if (foreign) {
    throw new PreflightError(
      `${foreign}: the journal does not match the cluster (was it edited?), so cleanup deletes nothing`,
      rerun,
    );
  }
  if (source && source.status?.phase === 'Bound') {
    throw new PreflightError(
      `source PV ${j.original.sourcePv.name} is Bound again to a claim; refusing to delete it`,
      rerun,
    );
  }
  return {
    migrationId: j.migrationId,
    sourcePv: j.original.sourcePv.name,
    sourcePolicy: j.original.sourcePv.reclaimPolicy,
    targetPv: j.original.targetPv.name,
    journal: stored.name,
    otherClaims: stored.document.claims.map((c) => c.name).filter((c) => c !== req.claim),
  };
}

export async function runCleanup(
  req: CleanupRequest,
  cluster: ClusterPort,
  emit: Emit,
  t: CleanupTarget,
): Promise<void> {
  const stepStart = Date.now();
  const title = `Release source PV ${t.sourcePv} (original policy ${t.sourcePolicy})`;
  emit({ type: 'step', step: 'delete-source-pv', title, status: 'started' });
  try {
    const pv = await cluster.getPv(t.sourcePv);
    if (pv) {
      if (t.sourcePolicy === 'Delete') {
        // The provisioner deletes the backing volume of a Released PV with policy Delete.
        await cluster.patchPv(t.sourcePv, reclaimPolicyPatch('Delete'));
        await cluster.waitFor(
          `PV ${t.sourcePv} to be deleted by its provisioner`,
          req.timeouts.deleteMs,
          async () => ((await cluster.getPv(t.sourcePv)) ? undefined : true),
        );
      } else {
        // Retain was the user's own choice: remove the PV object, keep the storage as Retain means.
        await cluster.deletePv(t.sourcePv);
        emit({
          type: 'warning',
          step: 'delete-source-pv',
          message: `PV ${t.sourcePv} had policy ${t.sourcePolicy}: its object is deleted, the storage behind it is not`,
        });
      }
    }
  } catch (err) {
    const e = new StepFailedError('delete-source-pv', describe(err), req.commands.cleanup);
    emit({
      type: 'step',
      step: 'delete-source-pv',
      title,
      status: 'failed',
      message: e.message,
      durationMs: Date.now() - stepStart,
    });
    throw e;
  }
  emit({ type: 'step', step: 'delete-source-pv', title, status: 'done', durationMs: Date.now() - stepStart });

  const jStart = Date.now();
  emit({ type: 'step', step: 'delete-journal', title: 'Delete the journal', status: 'started' });
  if (t.otherClaims.length === 0) await cluster.deleteJournal(req.namespace, t.journal);
  else await forgetClaim(cluster, req.namespace, t.journal, req.claim);
  emit({
    type: 'step',
    step: 'delete-journal',
    title: 'Delete the journal',
    status: 'done',
    durationMs: Date.now() - jStart,
  });
  emit({
    type: 'result',
    status: 'cleaned',
    migrationId: t.migrationId,
    message: `Cleaned up migration ${t.migrationId}: source PV ${t.sourcePv} released, claim ${req.claim} stays on ${t.targetPv}`,
  });
}

/** A batch's journal without this claim (cleaned up); the other claims keep their records. */
async function forgetClaim(
  cluster: ClusterPort,
  namespace: string,
  name: string,
  claim: string,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const stored = await cluster.readJournal(namespace, name);
    if (!stored) return;
    const claims = stored.document.claims.filter((c) => c.name !== claim);
    if (claims.length === stored.document.claims.length) return;
    try {
      if (claims.length === 0) await cluster.deleteJournal(namespace, name);
      else
        await cluster.replaceJournal(namespace, name, { ...stored.document, claims }, stored.resourceVersion);
      return;
    } catch (err) {
      if (!(err instanceof ConflictProblem) || attempt >= 4) throw err;
    }
  }
}
