// The one message for a claim of the original name that this migration did not create. Typically a
// StatefulSet scaled up meanwhile made it from its template, and the PV controller bound it to the
// pre-bound target PV whatever its class: it is never adopted, deleted or unbound; the user removes
// it and continues (the move, or its rollback).
import { StepProblem } from './errors.js';
import { targetPvName, type Observed } from './observed.js';

export function nameTakenProblem(o: Observed, claim: string, namespace: string): StepProblem {
  const c = o.claim;
  const volume = c?.spec?.volumeName;
  const where = volume
    ? volume === targetPvName(o)
      ? `bound to the target PV ${volume}`
      : `on PV ${volume}`
    : 'not bound';
  return new StepProblem(
    `claim ${claim} was created by someone else, not by this migration (uid ${c?.metadata.uid ?? '?'}, class ${c?.spec?.storageClassName ?? 'none'}, ${where}; ` +
      `a StatefulSet scaled up from its template, or a controller re-creating it), so it is not adopted; the data is safe ` +
      `(source PV ${o.journal?.original.sourcePv.name ?? '?'} and target PV ${targetPvName(o) ?? '?'} are kept with reclaim policy Retain): ` +
      `scale what creates it to 0, delete it with \`kubectl delete pvc ${claim} -n ${namespace}\`, then continue`,
  );
}
