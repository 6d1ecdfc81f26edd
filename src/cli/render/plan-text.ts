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
 * batch as a whole does: its journal, the StatefulSet templates it rewrites, its notes (claims,
 * owners stopped once, claims left out, what GitOps tools will show).
 */
export function batchPlanText(prepared: PreparedBatch, full: boolean): string {
  const plans = prepared.plans.map((p) => planSummary(p) + (full ? planManifests(p) : '')).join('\n');
  return `${plans}\n${batchSummary(prepared).join('\n')}\n`;
}

/** What the batch as a whole does, a line each (headers end with a colon). */
export function batchSummary(prepared: PreparedBatch): string[] {
  const namespace = prepared.plans[0]?.claim.namespace ?? '';
  const lines = [
    `${prepared.stored ? 'Resuming batch' : 'Batch'} migration ${prepared.migrationId} of ${prepared.plans.length} claim${prepared.plans.length === 1 ? '' : 's'} in namespace ${namespace} (journal ConfigMap ${prepared.journalName})`,
  ];
  if (prepared.templates.length > 0)
    lines.push(
      '  StatefulSet templates rewritten:',
      ...prepared.templates.map(
        (t) =>
          `    - ${t.statefulSet}, volumeClaimTemplate ${t.template}: class ${t.original.storageClassName || '(none)'} -> ${t.wanted.storageClassName}, size ${t.original.storage ?? '(none)'} -> ${t.wanted.storage}`,
      ),
    );
  if (prepared.notes.length > 0) lines.push('  Notes:', ...prepared.notes.map((n) => `    - ${n}`));
  return lines;
}
