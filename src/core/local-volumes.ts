// Node-local volumes (local PVs, and any class whose PVs are made by hand: provisioner
// kubernetes.io/no-provisioner) cannot be created on demand: a target claim of such a class binds
// only if a free PV of its volumeMode, of enough size, exists on a node the copy pod can reach.
// Checked before anything changes, so a move never stops after the scale-down waiting for a PV
// that will never come. Pure.
import { compareQuantities, formatBytes, isValidQuantity, quantityToBytes } from './quantity.js';
import type { NodeSelector, Pv, StorageClass } from './types.js';

export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
const HOSTNAME = 'kubernetes.io/hostname';

export function volumeModeOf(x: { spec?: { volumeMode?: string } } | undefined): 'Filesystem' | 'Block' {
  return x?.spec?.volumeMode === 'Block' ? 'Block' : 'Filesystem';
}

/** The nodes a required node selector allows by hostname, or undefined if it does not name them. */
export function hostnamesOf(selector: NodeSelector | undefined): string[] | undefined {
  const names = (selector?.nodeSelectorTerms ?? []).flatMap((t) =>
    (t.matchExpressions ?? [])
      .filter((e) => e.key === HOSTNAME && e.operator === 'In')
      .flatMap((e) => e.values ?? []),
  );
  return names.length > 0 ? names : undefined;
}

export interface LocalTargetInput {
  storageClass: StorageClass;
  /** Every PV of the cluster (only those of the class matter). */
  pvs: Pv[];
  volumeMode: 'Filesystem' | 'Block';
  size: string;
  /** The node the copy pod must run on (the source is only reachable there), if pinned. */
  node?: string;
}

function describePv(pv: Pv): string {
  const nodes = hostnamesOf(pv.spec?.nodeAffinity?.required);
  return `${pv.metadata.name ?? '?'} (${volumeModeOf(pv)}, ${pv.spec?.capacity?.storage ?? '?'}${nodes ? `, node ${nodes.join('/')}` : ''})`;
}

/** Why no free PV of the class can take the target claim, or undefined when one can (or the class provisions). */
export function localTargetProblem(t: LocalTargetInput): string | undefined {
  if (t.storageClass.provisioner !== NO_PROVISIONER) return undefined;
  const name = t.storageClass.metadata.name ?? '?';
  const free = t.pvs.filter(
    (pv) =>
      pv.spec?.storageClassName === name &&
      pv.status?.phase === 'Available' &&
      !pv.spec?.claimRef?.uid &&
      pv.metadata.deletionTimestamp === undefined,
  );
  const fits = (pv: Pv): boolean => {
    const cap = pv.spec?.capacity?.storage;
    return cap !== undefined && isValidQuantity(cap) && compareQuantities(cap, t.size) >= 0;
  };
  const reachable = (pv: Pv): boolean => {
    const nodes = hostnamesOf(pv.spec?.nodeAffinity?.required);
    return t.node === undefined || nodes === undefined || nodes.includes(t.node);
  };
  if (free.some((pv) => volumeModeOf(pv) === t.volumeMode && fits(pv) && reachable(pv))) return undefined;
  const where = t.node ? ` on node ${t.node} (where the source volume is)` : '';
  const need = `a free PersistentVolume of volumeMode ${t.volumeMode}, at least ${t.size} (${formatBytes(Number(quantityToBytes(t.size)))})${where}`;
  const have =
    free.length > 0 ? `its free PVs: ${free.map(describePv).join(', ')}` : 'it has no free PV at all';
  const modes = new Set(free.map(volumeModeOf));
  const modeHint =
    free.length > 0 && !modes.has(t.volumeMode)
      ? `; a ${t.volumeMode} claim cannot move to ${[...modes].join('/')} volumes (kubectl-pvmove copies files to files and devices to devices)`
      : '';
  return (
    `StorageClass ${name} has no PV the target claim could bind: its PVs are made by hand (${NO_PROVISIONER}) and it needs ${need}; ${have}${modeHint}. ` +
    `Create such a PV, or choose another --to-class`
  );
}

/**
 * A class that provisions only in some topologies (allowedTopologies) cannot make the target where
 * a node-local source is: no node could attach both volumes for the copy. `labels` are the source
 * node's; without them only hostname terms can be judged.
 */
export function topologyProblem(
  storageClass: StorageClass,
  node: string | undefined,
  labels: Record<string, string> | undefined,
): string | undefined {
  const terms = storageClass.allowedTopologies ?? [];
  if (!node || terms.length === 0) return undefined;
  const known: Record<string, string> = { ...labels, [HOSTNAME]: node };
  const judge = (key: string): boolean => key === HOSTNAME || labels !== undefined;
  const matches = terms.some((t) =>
    (t.matchLabelExpressions ?? []).every(
      (e) => !judge(e.key) || (e.values ?? []).includes(known[e.key] ?? ''),
    ),
  );
  if (matches) return undefined;
  const allowed = terms
    .map((t) =>
      (t.matchLabelExpressions ?? [])
        .map((e) => `${e.key} in (${(e.values ?? []).join(', ')})`)
        .join(' and '),
    )
    .join('; or ');
  return (
    `StorageClass ${storageClass.metadata.name ?? '?'} provisions only where ${allowed}, and the source volume is only reachable on node ${node}` +
    `: no node could mount both for the copy. Choose a class that can provision on node ${node}`
  );
}
