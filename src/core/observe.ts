// One read of everything a migration's postconditions look at.
import type { ClusterPort } from './cluster.js';
import type { Journal } from './journal.js';
import type { MigrationNames } from './names.js';
import type { Observed } from './observed.js';
import { podsUsingClaim } from './owners.js';
import type { Pod } from './types.js';

export async function observe(
  cluster: ClusterPort,
  namespace: string,
  claimName: string,
  names: MigrationNames,
  journal: Journal | undefined,
  runId?: string,
): Promise<Observed> {
  const [claim, targetClaim, copyPod, pods] = await Promise.all([
    cluster.getPvc(namespace, claimName),
    cluster.getPvc(namespace, names.targetClaim),
    cluster.getPod(namespace, names.copyPod),
    // From the API server's cache: this look follows every step, most often while the application
    // is down; what acts on "no pod uses the claim" lists again (podsUsingClaimNow).
    cluster.listPods(namespace, { cached: true }),
  ]);
  // Before the journal exists, the claim's volume is the source; afterwards the journal says so,
  // because by then the claim may be gone or bound to the target.
  const sourceName = journal ? journal.original.sourcePv.name : claim?.spec?.volumeName;
  const targetName = journal?.original.targetPv?.name ?? targetClaim?.spec?.volumeName;
  // Only a batch that rewrites StatefulSet templates looks at them (one read per StatefulSet).
  const rewritten = [...new Set((journal?.templates ?? []).map((t) => t.statefulSet))].filter((name) =>
    journal?.original.owners.some((o) => o.kind === 'StatefulSet' && o.name === name),
  );
  const [sourcePv, targetPv, owners, sets] = await Promise.all([
    sourceName ? cluster.getPv(sourceName) : Promise.resolve(undefined),
    targetName ? cluster.getPv(targetName) : Promise.resolve(undefined),
    Promise.all((journal?.original.owners ?? []).map((o) => cluster.getOwnerState(namespace, o))),
    Promise.all(
      rewritten.map(async (name) => [name, (await cluster.getStatefulSet(namespace, name)) ?? null] as const),
    ),
  ]);
  return {
    journal,
    claim,
    sourcePv,
    targetClaim,
    targetPv,
    copyPod,
    podsUsingClaim: podsUsingClaim(pods, claimName, names.copyPod),
    owners,
    ...(runId ? { runId } : {}),
    ...(sets.length > 0 ? { statefulSets: Object.fromEntries(sets) } : {}),
  };
}

/**
 * The pods other than the copy pod that use the claim, from a consistent list: what a step checks
 * right before it deletes a claim, as a look's own list (above) may lag the API server by moments.
 */
export async function podsUsingClaimNow(
  cluster: ClusterPort,
  namespace: string,
  claimName: string,
  copyPod: string,
): Promise<Pod[]> {
  return podsUsingClaim(await cluster.listPods(namespace), claimName, copyPod);
}
