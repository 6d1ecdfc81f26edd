// The plan: request + observed state -> steps (with what is already done) and every manifest or
// patch that would be sent, each step saying its own (Step.plan). Pure, so --dry-run, the
// confirmation prompt and tests share it.
import { ITINERARY } from './itinerary.js';
import { keptVolumeAttributesClass, storageRequest } from './manifests.js';
import type { CopyEngine } from './copy-engine.js';
import type { MigrationNames } from './names.js';
import type { Observed } from './observed.js';
import { targetPvName } from './observed.js';
import { deletesClaimsOnScaleDown, ownerLabel } from './owners.js';
import type { Journal, TemplateRecord } from './journal.js';
import type { Step } from './step.js';
import type { MigrationRequest, OwnerId, OwnerRecord, Pvc } from './types.js';

export interface PlannedChange {
  step: string;
  action: 'create' | 'patch' | 'delete' | 'scale';
  kind: string;
  name: string;
  /** The object to create, or the merge patch to send. */
  body?: unknown;
}

export interface Plan {
  migrationId: string;
  resumed: boolean;
  claim: { namespace: string; name: string };
  source: { pv: string; storageClass: string; size: string; reclaimPolicy: string };
  target: { claim: string; pv?: string; storageClass: string; size: string };
  copyPod: string;
  journal: string;
  owners: OwnerId[];
  steps: { id: string; title: string; done: boolean }[];
  changes: PlannedChange[];
  notes: string[];
}

export interface PlanInput {
  req: MigrationRequest;
  names: MigrationNames;
  observed: Observed;
  /** From the journal when resuming, else from preflight. */
  owners: OwnerId[] | OwnerRecord[];
  targetClass: string;
  targetSize: string;
  engine: CopyEngine;
  /** A batch's StatefulSet templates to rewrite (before its journal records them). */
  templates?: TemplateRecord[];
}

/** Placeholder for names only known once the cluster made them (the provisioned PV). */
export const TARGET_PV_PLACEHOLDER = '<target PV, known once bound>';

/** What every step's plan() reads: the input plus the names and values derived from it once. */
export interface PlanContext extends PlanInput {
  migrationId: string;
  /** The claim as it was (from the journal when resuming). */
  original: Pvc;
  sourcePv: string;
  sourcePolicy: string;
  /** The target PV's name, or TARGET_PV_PLACEHOLDER until it is bound. */
  targetPv: string;
  /** What the copy pod is built from before the journal exists. */
  pseudoJournal: Pick<Journal, 'migrationId' | 'request'>;
}

export function planMigration(p: PlanInput, steps: readonly Step[] = ITINERARY): Plan {
  const { req, names, observed: o } = p;
  const journal = o.journal;
  const original: Pvc = journal?.original.pvc ??
    o.claim ?? { metadata: { name: req.claim, namespace: req.namespace } };
  const sourcePv = journal?.original.sourcePv.name ?? o.sourcePv?.metadata.name ?? '';
  const sourcePolicy =
    journal?.original.sourcePv.reclaimPolicy ?? o.sourcePv?.spec?.persistentVolumeReclaimPolicy ?? 'Delete';
  const targetPv = targetPvName(o);
  const migrationId = names.migrationId;
  const ctx: PlanContext = {
    ...p,
    migrationId,
    original,
    sourcePv,
    sourcePolicy,
    targetPv: targetPv ?? TARGET_PV_PLACEHOLDER,
    pseudoJournal: {
      migrationId,
      request: {
        toClass: p.targetClass,
        size: p.targetSize,
        verify: req.verify,
        ...(req.precopy ? { precopy: req.precopy } : {}),
      },
    },
  };
  const changes: PlannedChange[] = steps.flatMap((s) => s.plan?.(ctx) ?? []);

  const notes: string[] = [
    'The data used is measured in the copy pod before copying; the copy stops there if it does not fit.',
  ];
  const dropped = (['selector', 'dataSource', 'dataSourceRef'] as const).filter(
    (k) => original.spec?.[k] !== undefined,
  );
  if (dropped.length > 0) {
    notes.push(
      `The re-created claim drops ${dropped.join(', ')}: it is bound to the target PV by volumeName.`,
    );
  }
  const vac = original.spec?.volumeAttributesClassName;
  if (vac && !keptVolumeAttributesClass(original, p.targetClass)) {
    notes.push(
      `Warning: the claim's VolumeAttributesClass ${vac} is for class ${original.spec?.storageClassName || '(none)'}, so the ` +
        `target and re-created claims on class ${p.targetClass} get none; set one for the new class afterwards if its driver supports it.`,
    );
  }
  if (original.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined) {
    notes.push(
      'The claim keeps its last-applied-configuration annotation, which names the old class and size: update your manifests before the next `kubectl apply`.',
    );
  }
  if (o.sourcePv?.spec?.nodeAffinity?.required) {
    notes.push('The source PV has node affinity; the copy pod gets the same required node affinity.');
  }
  if (p.owners.length > 0) notes.push(`Stopped during the move: ${p.owners.map(ownerLabel).join(', ')}.`);
  notes.push(...retentionNotes(p.owners));
  notes.push(`The source PV ${sourcePv} is kept (Retain, Released) until \`${req.commands.cleanup}\`.`);

  return {
    migrationId,
    resumed: journal !== undefined,
    claim: { namespace: req.namespace, name: req.claim },
    source: {
      pv: sourcePv,
      storageClass: original.spec?.storageClassName ?? '',
      size: storageRequest(original) ?? '',
      reclaimPolicy: sourcePolicy,
    },
    target: { claim: names.targetClaim, pv: targetPv, storageClass: p.targetClass, size: p.targetSize },
    copyPod: names.copyPod,
    journal: names.journal,
    owners: p.owners.map((x) => ({ kind: x.kind, name: x.name })),
    steps: steps.map((s) => ({ id: s.id, title: s.title, done: s.isDone(o) })),
    changes,
    notes,
  };
}

/** A new migration has not read the StatefulSets' policies yet: say what happens if it is Delete. */
function retentionNotes(owners: (OwnerId | OwnerRecord)[]): string[] {
  const why = '(scaling it to 0 would delete the claim) and restored after the scale-up';
  return owners
    .filter((o) => o.kind === 'StatefulSet')
    .flatMap((o) => {
      const recorded = (o as OwnerRecord).pvcRetentionWhenScaled;
      if (recorded === undefined)
        return [
          `If StatefulSet ${o.name}'s persistentVolumeClaimRetentionPolicy has whenScaled: Delete, it is set to Retain during the move ${why}.`,
        ];
      return deletesClaimsOnScaleDown(o)
        ? [
            `StatefulSet ${o.name}'s persistentVolumeClaimRetentionPolicy whenScaled: ${recorded} is set to Retain during the move ${why}.`,
          ]
        : [];
    });
}
