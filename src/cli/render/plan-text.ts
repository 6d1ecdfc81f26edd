// The plan as text: a summary for the confirmation prompt, plus every manifest and patch as YAML
// for --dry-run.
import { stringify } from 'yaml';
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
