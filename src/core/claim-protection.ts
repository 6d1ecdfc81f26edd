// A deleted claim stays (Terminating) until the pvc-protection controller removes its finalizer,
// which it does once no scheduled pod names the claim. The controller takes one claim at a time and
// reads the pods anew for each (a consistent list that can wait ~0.1 s for the API server's cache):
// on the test bed the two claims of the swap went 0.1 and 0.2 s after their deletion, while the
// application is down. The swap makes the controller's check itself, once for both claims, and
// removes that finalizer when it holds. Pure.
import { podMountsClaim } from './owners.js';
import type { Pod, Pvc } from './types.js';

/** The finalizer Kubernetes keeps on a claim while a pod may use it. */
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

/** A claim whose protection may go: its finalizers without PVC_PROTECTION, at its resourceVersion. */
export interface ReleasableClaim {
  name: string;
  resourceVersion: string;
  finalizers: string[];
}

/**
 * The claims whose protection may be removed, given `pods`, a consistent list read after the claims
 * were deleted: a claim being deleted can no longer be taken by a new pod (the scheduler and the
 * kubelet refuse it), so a pod that is not in that list never will use it. Stricter than the
 * controller: any pod that names the claim keeps it, scheduled or not, running or finished (a
 * finished pod is reported by name, with the command that deletes it). Other finalizers stay.
 */
export function releasableClaims(claims: (Pvc | undefined)[], pods: Pod[]): ReleasableClaim[] {
  return claims.flatMap((claim) => {
    const m = claim?.metadata;
    if (!m?.name || !m.resourceVersion || !m.deletionTimestamp) return [];
    const finalizers = m.finalizers ?? [];
    if (!finalizers.includes(PVC_PROTECTION)) return [];
    const name = m.name;
    if (pods.some((p) => podMountsClaim(p, name))) return [];
    return [
      {
        name,
        resourceVersion: m.resourceVersion,
        finalizers: finalizers.filter((f) => f !== PVC_PROTECTION),
      },
    ];
  });
}
