// A copy pod that can never start because of where its volumes are: the scheduler finds no node
// whose labels satisfy the required node affinity of both PVs (an Immediate class provisioned the
// target in another zone, or on a node the source cannot reach). Waiting for the start timeout
// would only delay the answer, with the workload down; the copy step stops at once instead, before
// any claim is deleted. Pure, so the message is unit-tested.
import type { NodeSelector, Pod, Pv } from './types.js';

/** The scheduler's words for "a PV's node affinity excludes every node that could run the pod". */
const VOLUME_CONFLICT = /volume node affinity conflict/i;

/** `key In (a, b) and key2 Exists`, the terms joined by ` or `: one line for a message. */
export function describeNodeAffinity(selector: NodeSelector | undefined): string | undefined {
  const terms = (selector?.nodeSelectorTerms ?? [])
    .map((t) =>
      [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])]
        .map((e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(', ')})` : ''}`)
        .join(' and '),
    )
    .filter((t) => t !== '');
  return terms.length > 0 ? terms.join(' or ') : undefined;
}

/** The one-line reason the copy pod will not be scheduled, or undefined if it may still start. */
export function placementConflict(pod: Pod, targetPv?: Pv, sourcePv?: Pv): string | undefined {
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched?.reason !== 'Unschedulable' || !VOLUME_CONFLICT.test(sched.message ?? '')) return undefined;
  const pin = (pv: Pv | undefined): string => {
    const where = describeNodeAffinity(pv?.spec?.nodeAffinity?.required);
    return where ? `can only be used on nodes with ${where}` : 'has no node affinity';
  };
  const target = targetPv?.metadata.name ?? '?';
  const source = sourcePv?.metadata.name ?? '?';
  return (
    `copy pod ${pod.metadata.name ?? '?'} cannot be scheduled (${(sched.message ?? '').trim()}): ` +
    `the target PV ${target} ${pin(targetPv)}, the source PV ${source} ${pin(sourcePv)}, ` +
    `and no node can mount both volumes; roll back and pick a class whose volumes can be created where ` +
    `the source is (for example a WaitForFirstConsumer class)`
  );
}
