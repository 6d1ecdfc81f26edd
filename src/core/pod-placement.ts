// Where a pod of pvmove's runs: the source PV's required node affinity (a local volume is only
// reachable there), and the user's --copy-toleration / --copy-node-selector. The probe pod and every
// engine's copy pod are placed alike, so the probe proves the copy pod can start. Pure.
import type { CopyOptions, NodeSelector } from './types.js';

export function applyPlacement(
  spec: Record<string, unknown>,
  p: {
    sourceNodeAffinity?: NodeSelector;
    node?: string;
    copy: Pick<CopyOptions, 'tolerations' | 'nodeSelector'>;
  },
): void {
  const terms: Array<Record<string, unknown>> =
    p.sourceNodeAffinity && p.sourceNodeAffinity.nodeSelectorTerms.length > 0
      ? (JSON.parse(JSON.stringify(p.sourceNodeAffinity.nodeSelectorTerms)) as Array<Record<string, unknown>>)
      : [];
  // One node: added to every term (terms are alternatives, a term's fields all apply). Not
  // spec.nodeName, which skips the scheduler: a WaitForFirstConsumer target would never bind.
  if (p.node !== undefined) {
    const onNode = { key: 'metadata.name', operator: 'In', values: [p.node] };
    if (terms.length === 0) terms.push({});
    for (const t of terms) t.matchFields = [...((t.matchFields as unknown[] | undefined) ?? []), onNode];
  }
  if (terms.length > 0) {
    spec.affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    };
  }
  if (p.copy.tolerations.length > 0) spec.tolerations = p.copy.tolerations.map((t) => ({ ...t }));
  if (Object.keys(p.copy.nodeSelector).length > 0) spec.nodeSelector = { ...p.copy.nodeSelector };
}
