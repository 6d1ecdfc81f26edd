// Stopping and restoring owners, shared by scale-down/scale-up and by their undo steps, so a
// rollback stops and restores exactly as the move does.
import type { ClusterPort } from '../cluster.js';
import type { Emit } from '../events.js';
import { ownersRestored, type Observed } from '../observed.js';
import { deletesClaimsOnScaleDown, ownerLabel, podsUsingClaim, retentionToRestore } from '../owners.js';
import type { OwnerRecord, OwnerState } from '../types.js';

const isSuspendable = (o: { kind: string }): boolean => o.kind === 'Job' || o.kind === 'CronJob';

/**
 * Stops one owner: suspend, or 0 replicas. A StatefulSet with whenScaled: Delete gets Retain first,
 * in its own write before the one of the replicas, so its controller never sees 0 replicas with
 * Delete (it would delete the claim with the pod). `state` is what is observed now.
 */
export async function stopOwner(
  cluster: ClusterPort,
  namespace: string,
  owner: OwnerRecord,
  state: OwnerState | undefined,
): Promise<void> {
  if (isSuspendable(owner)) return cluster.setSuspend(namespace, owner, true);
  if (deletesClaimsOnScaleDown(state ?? owner))
    await cluster.setClaimRetentionWhenScaled(namespace, owner.name, 'Retain');
  await cluster.scaleOwner(namespace, owner, 0);
}

/**
 * Restores one owner as recorded. The claim retention policy comes back after the replicas: with
 * them back, no pod is scaled away when Delete applies again.
 */
export async function restoreOwner(
  cluster: ClusterPort,
  namespace: string,
  owner: OwnerRecord,
  state: OwnerState | undefined,
): Promise<void> {
  if (isSuspendable(owner)) return cluster.setSuspend(namespace, owner, owner.suspend ?? false);
  await cluster.scaleOwner(namespace, owner, owner.replicas ?? 0);
  const whenScaled = retentionToRestore(owner, state);
  if (whenScaled) await cluster.setClaimRetentionWhenScaled(namespace, owner.name, whenScaled);
}

export const ownerStateIn = (o: Observed, owner: OwnerRecord): OwnerState | undefined =>
  o.owners.find((s) => s.kind === owner.kind && s.name === owner.name);

export interface OwnerScaling {
  cluster: ClusterPort;
  namespace: string;
  claim: string;
  copyPod: string;
  observed: Observed;
  emit: Emit;
  signal: AbortSignal;
  /** The step in whose name warnings are emitted. */
  step: string;
  observe(): Promise<Observed>;
}

/** Stops every recorded owner (CronJobs first, as sorted at preflight) and waits until no pod uses the claim. */
export async function stopOwnersAndWait(
  s: OwnerScaling,
  owners: OwnerRecord[],
  timeoutMs: number,
  beforeWait?: () => Promise<void>,
): Promise<void> {
  for (const owner of owners) {
    const state = ownerStateIn(s.observed, owner);
    if (state && !state.exists) continue;
    await stopOwner(s.cluster, s.namespace, owner, state);
  }
  await beforeWait?.();
  // From the API server's cache: it only lags, so a pod seen gone there is gone (the copy lists
  // consistently before it starts).
  const holding = async (): Promise<string[]> =>
    podsUsingClaim(await s.cluster.listPods(s.namespace, { cached: true }), s.claim, s.copyPod).map(
      (p) => p.metadata.name ?? '?',
    );
  await s.cluster.waitFor(
    `no pod to use claim ${s.claim}`,
    timeoutMs,
    async () => ((await holding()).length === 0 ? true : undefined),
    {
      signal: s.signal,
      wakeOn: [{ kind: 'Pod', namespace: s.namespace }],
      detail: async () => {
        const pods = await holding();
        return pods.length > 0
          ? `still used by ${pods.join(', ')}; stop what runs them (owners stopped: ${owners.map(ownerLabel).join(', ') || 'none'})`
          : undefined;
      },
    },
  );
}

/** Restores every recorded owner (workloads first, CronJobs last) and waits until they are ready. */
export async function restoreOwnersAndWait(
  s: OwnerScaling,
  owners: OwnerRecord[],
  timeoutMs: number,
): Promise<void> {
  for (const owner of [...owners].reverse()) {
    const state = ownerStateIn(s.observed, owner);
    if (state && !state.exists) {
      s.emit({
        type: 'warning',
        step: s.step,
        message: `${ownerLabel(owner)} no longer exists; not restored`,
      });
      continue;
    }
    await restoreOwner(s.cluster, s.namespace, owner, state);
  }
  await s.cluster.waitFor(
    'owners to be ready',
    timeoutMs,
    async () => (ownersRestored(await s.observe()) ? true : undefined),
    {
      signal: s.signal,
      // Their status says ready once their pods are; a change of it is what this waits for.
      wakeOn: owners.flatMap((o) =>
        o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'ReplicaSet'
          ? [{ kind: o.kind, namespace: s.namespace, name: o.name }]
          : [],
      ),
      detail: async () => {
        const o = await s.observe();
        const lagging = o.owners
          .filter((x) => x.exists && !isSuspendable(x))
          .filter((x) => (x.readyReplicas ?? 0) < (x.replicas ?? 0))
          .map((x) => `${ownerLabel(x)} ${x.readyReplicas ?? 0}/${x.replicas ?? 0} ready`);
        return lagging.length > 0 ? lagging.join(', ') : undefined;
      },
    },
  );
}
