// The plan as text: a summary for the confirmation prompt, plus every manifest and patch as YAML
// for --dry-run.
import { stringify } from 'yaml';
import type { PreparedBatch } from '../../core/batch.js';
import type { Plan } from '../../core/plan.js';

export function planSummary(plan: Plan): string {
  const lines = [
    `${plan.resumed ? 'Resuming' : 'Plan for'} migration ${plan.migrationId} of claim ${plan.claim.namespace}/${plan.claim.name}:`,
    `  from: PV ${plan.source.pv}, class ${plan.source.storageClass || '(none)'}, ${plan.source.size}, reclaim policy ${plan.source.reclaimPolicy}`,
    `  to:   class ${plan.target.storageClass}, ${plan.target.size}${plan.target.pv ? `, PV ${plan.target.pv}` : ''} (temporary claim ${plan.target.claim}, copy pod ${plan.copyPod})`,
    `  journal: ConfigMap ${plan.journal}`,
    'Steps:',
    ...plan.steps.map(
      (s, i) => `  ${String(i + 1).padStart(2)}. ${s.done ? '[done]' : '[todo]'} ${s.id}: ${s.title}`,
    ),
  ];
  if (plan.notes.length > 0) lines.push('Notes:', ...plan.notes.map((n) => `  - ${n}`));
  return `${lines.join('\n')}\n`;
}

export function planManifests(plan: Plan): string {
  return plan.changes
    .map((c) => {
      const head = `# ${c.step}: ${c.action} ${c.kind} ${c.name}${c.action === 'patch' || c.action === 'scale' ? ' (merge patch)' : ''}`;
      return c.body === undefined ? `---\n${head}\n` : `---\n${head}\n${stringify(c.body, { lineWidth: 0 })}`;
    })
    .join('');
}

/**
 * A batch's plan: every claim's plan (the summary, plus the manifests when `full`), then what the
 * batch as a whole does: its claims, the claims left out, the StatefulSet templates it rewrites.
 */
export function batchPlanText(prepared: PreparedBatch, parallel: number, full: boolean): string {
  const plans = prepared.plans.map((p) => planSummary(p) + (full ? planManifests(p) : '')).join('\n');
  return `${plans}\n${batchSummary(prepared, parallel).join('\n')}\n`;
}

/** What the batch as a whole does, a line each (also the -o json info events of a dry run). */
export function batchSummary(prepared: PreparedBatch, parallel: number): string[] {
  const first = prepared.plans[0];
  const namespace = first?.claim.namespace ?? '';
  const names = prepared.plans.map((p) => p.claim.name);
  const owners = [...new Set(prepared.plans.flatMap((p) => p.owners.map((o) => `${o.kind} ${o.name}`)))];
  const lines = [
    `Batch migration ${prepared.migrationId} of ${names.length} claim${names.length === 1 ? '' : 's'} in namespace ${namespace} (journal ConfigMap ${prepared.journalName}): ${names.join(', ')}`,
    `  ${Math.min(parallel, names.length)} cop${Math.min(parallel, names.length) === 1 ? 'y' : 'ies'} at a time; ${owners.length > 0 ? `stopped once for all claims, started again once every claim is moved: ${owners.join(', ')}` : 'no owner to stop'}`,
  ];
  if (prepared.skipped.length > 0)
    lines.push('Left out:', ...prepared.skipped.map((s) => `  - ${s.claim}: ${s.message}`));
  if (prepared.templates.length > 0)
    lines.push(
      'StatefulSet templates rewritten (the StatefulSet is re-created around its running pods, with only these changed):',
      ...prepared.templates.map(
        (t) =>
          `  - StatefulSet ${t.statefulSet}, volumeClaimTemplate ${t.template}: class ${t.original.storageClassName || '(none)'} -> ${t.wanted.storageClassName}, size ${t.original.storage ?? '(none)'} -> ${t.wanted.storage}`,
      ),
    );
  if (prepared.notes.length > 0) lines.push('Notes:', ...prepared.notes.map((n) => `  - ${n}`));
  return lines;
}
