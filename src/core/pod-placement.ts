// Where a pod of pvmove's runs: the source PV's required node affinity (a local volume is only
// reachable there), and the user's --copy-toleration / --copy-node-selector. The probe pod and every
// engine's copy pod are placed alike, so the probe proves the copy pod can start. Pure.
import type { CopyOptions, NodeSelector } from './types.js';

export function applyPlacement(
  spec: Record<string, unknown>,
  p: { sourceNodeAffinity?: NodeSelector; copy: Pick<CopyOptions, 'tolerations' | 'nodeSelector'> },
): void {
  if (p.sourceNodeAffinity && p.sourceNodeAffinity.nodeSelectorTerms.length > 0) {
    spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: JSON.parse(JSON.stringify(p.sourceNodeAffinity.nodeSelectorTerms)) as unknown,
        },
      },
    };
  }
  if (p.copy.tolerations.length > 0) spec.tolerations = p.copy.tolerations.map((t) => ({ ...t }));
  if (Object.keys(p.copy.nodeSelector).length > 0) spec.nodeSelector = { ...p.copy.nodeSelector };
}
