// A journal is a ConfigMap: anyone allowed to edit ConfigMaps in the namespace can change what it
// says, while PVs are cluster-scoped and may hold another namespace's data. So before pvmove acts
// on a PV that a journal names (resume, rollback, cleanup), the cluster itself must agree: the PV
// belongs to this namespace's claim (claimRef), it is the very object recorded (uid), and it
// carries this migration's label. Otherwise an admin running cleanup could be made to delete, or a
// rollback to re-bind, a PV of another namespace: a confused deputy.
import { LABEL_MIGRATION_ID } from './defaults.js';
import type { Journal } from './journal.js';
import type { MigrationNames } from './names.js';
import type { Pv } from './types.js';

/** The journal found under a claim's journal name speaks of that claim in that namespace. */
export function journalIdentityProblem(j: Journal, namespace: string, claim: string): string | undefined {
  if (j.claim.namespace === namespace && j.claim.name === claim) return undefined;
  return `the journal of claim ${claim} in ${namespace} names claim ${j.claim.namespace}/${j.claim.name}: it was edited or copied, so kubectl-pvmove will not act on it`;
}

function refOf(pv: Pv): string {
  const ref = pv.spec?.claimRef;
  return ref ? `${ref.namespace ?? '?'}/${ref.name ?? '?'}` : 'no claim';
}

function markProblem(
  pv: Pv,
  role: string,
  j: Journal,
  recordedUid: string | undefined,
  requireLabel: boolean,
): string | undefined {
  const name = pv.metadata.name ?? '?';
  if (recordedUid !== undefined && pv.metadata.uid !== recordedUid) {
    return `${role} PV ${name} is not the PV migration ${j.migrationId} recorded (uid ${pv.metadata.uid ?? '?'}, recorded ${recordedUid})`;
  }
  const label = pv.metadata.labels?.[LABEL_MIGRATION_ID];
  if (label !== undefined ? label !== j.migrationId : requireLabel) {
    return `${role} PV ${name} is not labelled ${LABEL_MIGRATION_ID}=${j.migrationId} (it has ${label === undefined ? 'no such label' : `migration ${label}`})`;
  }
  return undefined;
}

/**
 * Why the source PV the journal names must not be touched, or undefined when it is this
 * migration's. `requireLabel`: cleanup, which deletes it, also wants the migration's label (set
 * when its policy became Retain); a resume or rollback accepts a PV not labelled yet.
 */
export function sourcePvProblem(
  pv: Pv | undefined,
  j: Journal,
  namespace: string,
  requireLabel: boolean,
): string | undefined {
  if (!pv) return undefined;
  const ref = pv.spec?.claimRef;
  if (ref?.namespace !== namespace || ref.name !== j.claim.name) {
    return `source PV ${pv.metadata.name ?? '?'} belongs to ${refOf(pv)}, not to claim ${namespace}/${j.claim.name}`;
  }
  return markProblem(pv, 'source', j, j.original.sourcePv.uid, requireLabel);
}

/** Why the target PV the journal names must not be touched: it belongs to neither of our claims. */
export function targetPvProblem(
  pv: Pv | undefined,
  j: Journal,
  namespace: string,
  names: Pick<MigrationNames, 'targetClaim'>,
): string | undefined {
  if (!pv) return undefined;
  const ref = pv.spec?.claimRef;
  if (ref?.namespace !== namespace || (ref.name !== j.claim.name && ref.name !== names.targetClaim)) {
    return `target PV ${pv.metadata.name ?? '?'} belongs to ${refOf(pv)}, not to claim ${namespace}/${j.claim.name} or its temporary claim`;
  }
  return markProblem(pv, 'target', j, j.original.targetPv?.uid, false);
}

/** Both PVs of a migration, as one refusal sentence (or undefined when both are this migration's). */
export function volumesProblem(
  o: { sourcePv?: Pv; targetPv?: Pv },
  j: Journal,
  namespace: string,
  names: Pick<MigrationNames, 'targetClaim'>,
): string | undefined {
  const problems = [
    sourcePvProblem(o.sourcePv, j, namespace, false),
    targetPvProblem(o.targetPv, j, namespace, names),
  ].filter((p): p is string => p !== undefined);
  if (problems.length === 0) return undefined;
  return `${problems.join('; ')}: the journal of migration ${j.migrationId} does not match the cluster (was it edited?), so kubectl-pvmove touches neither PV`;
}
