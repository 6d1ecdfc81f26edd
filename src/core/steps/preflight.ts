// Step 1: refuse early, before anything changes, with a sentence the user can act on.
import { describe, PreflightError } from '../errors.js';
import { probeProblem } from '../probe.js';
import { isPodActive, podMountsClaim, podsUsingClaim, resolveOwners } from '../owners.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../defaults.js';
import { evaluatePreflight, targetClassOf, type PreflightFacts } from '../preflight.js';
import { hostnamesOf, NO_PROVISIONER } from '../local-volumes.js';
import type { ClusterPort } from '../cluster.js';
import type { MigrationRequest, Pv } from '../types.js';
import type { Step } from '../step.js';

export async function gatherPreflightFacts(
  req: MigrationRequest,
  cluster: ClusterPort,
): Promise<PreflightFacts> {
  const claim = await cluster.getPvc(req.namespace, req.claim);
  const volume = claim?.spec?.volumeName;
  const className = targetClassOf(req, claim);
  const [sourcePv, storageClass, pods, replicaSets, jobs, hpas, templateOwners] = await Promise.all([
    volume ? cluster.getPv(volume) : Promise.resolve(undefined),
    className ? cluster.getStorageClass(className) : Promise.resolve(undefined),
    cluster.listPods(req.namespace),
    cluster.listReplicaSets(req.namespace),
    cluster.listJobs(req.namespace),
    cluster.listHpas(req.namespace),
    cluster.listTemplateOwners(req.namespace, req.claim),
  ]);
  // Node-local classes cannot provision: the free PVs say whether the target claim can bind at all.
  let pvs: Pv[] | undefined;
  let pvsUnreadable: string | undefined;
  if (storageClass?.provisioner === NO_PROVISIONER) {
    pvs = await cluster.listPvs().catch((err: unknown) => {
      pvsUnreadable = describe(err);
      return undefined;
    });
  }
  // A class limited to some topologies: the labels of the node a node-local source is on.
  const node = hostnamesOf(sourcePv?.spec?.nodeAffinity?.required)?.[0];
  const sourceNodeLabels =
    node && (storageClass?.allowedTopologies ?? []).length > 0
      ? await cluster.getNodeLabels(node).catch(() => undefined)
      : undefined;
  const using = podsUsingClaim(pods, req.claim);
  const resolution = resolveOwners(using, replicaSets, jobs);
  const statefulSets = [...resolution.owners, ...templateOwners].filter((o) => o.kind === 'StatefulSet');
  const claimTemplates = await Promise.all(
    [...new Set(statefulSets.map((o) => o.name))].map(async (name) => ({
      statefulSet: name,
      templates: await cluster.getClaimTemplates(req.namespace, name),
    })),
  );
  const finishedPods = pods
    .filter((p) => !isPodActive(p) && podMountsClaim(p, req.claim) && !p.metadata.deletionTimestamp)
    .filter((p) => p.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) // stale probes: see probe.ts
    .map((p) => p.metadata.name ?? '?');
  return {
    claim,
    sourcePv,
    storageClass,
    finishedPods,
    podsUsingClaim: using,
    resolution,
    templateOwners,
    hpas,
    claimTemplates,
    ...(pvs ? { pvs } : {}),
    ...(pvsUnreadable ? { pvsUnreadable } : {}),
    ...(sourceNodeLabels ? { sourceNodeLabels } : {}),
  };
}

export const preflight: Step = {
  id: 'preflight',
  title: 'Preflight: claim Bound, target class and size, who uses the claim',
  checkOnly: true,
  // Once the journal exists, the claim may legitimately be gone or scaled down: checks ran then.
  isDone: (o) => o.journal !== undefined,
  async run(ctx) {
    const facts = await gatherPreflightFacts(ctx.req, ctx.cluster);
    const result = evaluatePreflight(ctx.req, facts);
    if (result.problems.length > 0)
      throw new PreflightError(result.problems.join('; '), ctx.req.commands.resume);
    // The image and the data size, with a probe pod, before anything changes.
    if (facts.claim) {
      const refused = await probeProblem({
        req: ctx.req,
        cluster: ctx.cluster,
        names: ctx.names,
        claim: facts.claim,
        sourcePv: facts.sourcePv,
        podsUsingClaim: facts.podsUsingClaim,
        targetSize: result.targetSize,
        signal: ctx.signal,
      });
      if (refused) throw new PreflightError(refused, ctx.req.commands.resume);
    }
    for (const w of result.warnings) ctx.emit({ type: 'warning', step: 'preflight', message: w });
    for (const i of result.info) ctx.emit({ type: 'info', step: 'preflight', message: i });
    ctx.preflight = result;
  },
};
