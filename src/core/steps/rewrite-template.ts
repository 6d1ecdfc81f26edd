// Step 10b (batches of a whole StatefulSet): its volumeClaimTemplates name the new class and size,
// so the next scale-up makes claims like the moved ones, and GitOps compares against a template
// that matches the claims. The field is immutable: the StatefulSet is deleted with propagation
// Orphan (its claims, revisions and pods stay; at this point it has no pods, the owners are
// stopped) and created again, identical but for the templates. Its pod template is unchanged, so
// the revision is the same and no pod is rolled. Undone the same way with the recorded templates.
// A single-claim move records no template: the step has nothing to do.
import { StepProblem } from '../errors.js';
import type { TemplateRecord } from '../journal.js';
import type { Observed } from '../observed.js';
import type { ClusterPort } from '../cluster.js';
import type { StatefulSetManifest } from '../types.js';
import { type Step, type UndoStep } from '../step.js';

type Want = (t: TemplateRecord) => { storageClassName?: string; storage?: string };
const wanted: Want = (t) => t.wanted;
const original: Want = (t) => t.original;

/** The records of the templates of this claim's StatefulSets. */
function recordsOf(o: Observed): TemplateRecord[] {
  const j = o.journal;
  if (!j?.templates) return [];
  return j.templates.filter((t) =>
    j.original.owners.some((x) => x.kind === 'StatefulSet' && x.name === t.statefulSet),
  );
}

function templatesAre(
  sts: StatefulSetManifest | null | undefined,
  records: TemplateRecord[],
  want: Want,
): boolean {
  if (!sts) return false;
  return records.every((t) => {
    const live = sts.spec.volumeClaimTemplates?.find((x) => x.metadata.name === t.template);
    const w = want(t);
    return (
      live !== undefined &&
      (live.spec?.storageClassName ?? undefined) === (w.storageClassName ?? undefined) &&
      (live.spec?.resources?.requests?.storage ?? undefined) === (w.storage ?? undefined)
    );
  });
}

function withTemplates(
  base: StatefulSetManifest,
  records: TemplateRecord[],
  want: Want,
): StatefulSetManifest {
  const templates = (base.spec.volumeClaimTemplates ?? []).map((tpl) => {
    const rec = records.find((r) => r.template === tpl.metadata.name);
    if (!rec) return tpl;
    const w = want(rec);
    const spec = { ...tpl.spec };
    if (w.storageClassName === undefined) delete spec.storageClassName;
    else spec.storageClassName = w.storageClassName;
    if (w.storage !== undefined)
      spec.resources = { ...spec.resources, requests: { ...spec.resources?.requests, storage: w.storage } };
    return { ...tpl, spec };
  });
  return { ...base, spec: { ...base.spec, volumeClaimTemplates: templates } };
}

/** The StatefulSet as recorded, stopped as the move keeps it until scale-up (0 replicas, no claim deletion). */
function stopped(m: StatefulSetManifest): StatefulSetManifest {
  const retention = m.spec.persistentVolumeClaimRetentionPolicy;
  return {
    ...m,
    spec: {
      ...m.spec,
      replicas: 0,
      ...(retention?.whenScaled === 'Delete'
        ? { persistentVolumeClaimRetentionPolicy: { ...retention, whenScaled: 'Retain' } }
        : {}),
    },
  };
}

async function recreate(
  ctx: { cluster: ClusterPort; observed: Observed; signal: AbortSignal },
  namespace: string,
  deleteMs: number,
  want: Want,
): Promise<void> {
  const byName = new Map<string, TemplateRecord[]>();
  for (const r of recordsOf(ctx.observed))
    byName.set(r.statefulSet, [...(byName.get(r.statefulSet) ?? []), r]);
  for (const [name, records] of byName) {
    let live = await ctx.cluster.getStatefulSet(namespace, name);
    if (templatesAre(live, records, want)) continue;
    if (live) {
      if ((live.spec.replicas ?? 0) > 0) {
        throw new StepProblem(
          `StatefulSet ${name} runs ${live.spec.replicas} replicas again; its templates are only rewritten while it is stopped`,
        );
      }
      await ctx.cluster.deleteStatefulSetOrphaning(namespace, name, live.metadata.uid ?? '');
      await ctx.cluster.waitFor(
        `StatefulSet ${name} to be deleted (orphaning its claims)`,
        deleteMs,
        async () => ((await ctx.cluster.getStatefulSet(namespace, name)) ? undefined : true),
      );
    }
    const base = live ?? stopped(records[0]!.manifest);
    await ctx.cluster.createStatefulSet(withTemplates(base, records, want));
    live = await ctx.cluster.getStatefulSet(namespace, name);
    if (!templatesAre(live, records, want))
      throw new StepProblem(`StatefulSet ${name} was re-created but its templates are not as asked`);
  }
}

const undoRewriteTemplate: UndoStep = {
  id: 'undo-rewrite-template',
  title: 'Give the StatefulSet its original claim templates',
  isDone: (o) => {
    const records = recordsOf(o);
    return (
      records.length === 0 ||
      records.every((r) => templatesAre(o.statefulSets?.[r.statefulSet], [r], original))
    );
  },
  run: (ctx) => recreate(ctx, ctx.namespace, ctx.timeouts.deleteMs, original),
};

export const rewriteTemplate: Step = {
  id: 'rewrite-template',
  title: "Rewrite the StatefulSet's claim templates to the new class and size",
  isDone: (o) => {
    const records = recordsOf(o);
    return (
      records.length === 0 || records.every((r) => templatesAre(o.statefulSets?.[r.statefulSet], [r], wanted))
    );
  },
  notNeeded: (o) => recordsOf(o).length === 0,
  whyNotDone: () => 'the StatefulSet does not have the new claim templates',
  run: (ctx) => recreate(ctx, ctx.req.namespace, ctx.req.timeouts.deleteMs, wanted),
  undo: [undoRewriteTemplate],
  plan: (p) => {
    const records = p.observed.journal?.templates ?? p.templates ?? [];
    return [...new Set(records.map((r) => r.statefulSet))].flatMap((name) => [
      {
        step: 'rewrite-template',
        action: 'delete',
        kind: 'StatefulSet',
        name,
        body: { propagationPolicy: 'Orphan' },
      },
      {
        step: 'rewrite-template',
        action: 'create',
        kind: 'StatefulSet',
        name,
        body: {
          spec: {
            volumeClaimTemplates: records
              .filter((r) => r.statefulSet === name)
              .map((r) => ({
                metadata: { name: r.template },
                spec: {
                  storageClassName: r.wanted.storageClassName,
                  resources: { requests: { storage: r.wanted.storage } },
                },
              })),
          },
        },
      },
    ]);
  },
};
