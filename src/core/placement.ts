// A copy pod that can never start because of where its volumes are: the scheduler finds no node
// whose labels satisfy the required node affinity of both PVs (an Immediate class provisioned the
// target in another zone, or on a node the source cannot reach). Waiting for the start timeout
// would only delay the answer, with the workload down; the copy step stops at once instead, before
// any claim is deleted. Pure, so the message is unit-tested.
import type { NodeSelector, Pod, Pv } from './types.js';

/**
 * The scheduler's words for "this node is excluded by a PV's node affinity": Kubernetes 1.36 says
 * "didn't match PersistentVolume's node affinity", older releases "had volume node affinity conflict".
 */
const VOLUME_CONFLICT =
  /(\d+) node\(s\) (?:didn't match PersistentVolume's node affinity|had volume node affinity conflict)/;
const NODES = /^0\/(\d+) nodes are available/;

/**
 * True when every node is excluded by a volume's node affinity ("0/3 nodes are available: 3 node(s)
 * didn't match ..."). When some node is excluded for another reason (a taint, too little CPU), that
 * may change, so the pod is left to the start timeout.
 */
function everyNodeExcludedByVolumes(message: string): boolean {
  const nodes = NODES.exec(message.trim());
  const excluded = VOLUME_CONFLICT.exec(message);
  return nodes !== null && excluded !== null && Number(nodes[1]) > 0 && excluded[1] === nodes[1];
}

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
  if (sched?.reason !== 'Unschedulable' || !everyNodeExcludedByVolumes(sched.message ?? '')) return undefined;
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
