// The probe pod of the preflight: the copy image, placed like the copy pod (or next to the pod that
// uses the claim now), mounting the source claim read-only to measure the data. It proves the image
// can be pulled and run, and the data fits, before anything is scaled down. Pure manifest.
import { applyPlacement } from './pod-placement.js';
import type { CopyOptions, Labels, NodeSelector, Pod } from './types.js';

export const PROBE_MARK = 'PVMOVE probe used_bytes=';

export interface ProbePodSpec {
  name: string;
  namespace: string;
  labels: Labels;
  /** Unset for ReadWriteOncePod claims in use: only the image is checked then. */
  sourceClaim?: string;
  sourceNodeAffinity?: NodeSelector;
  /** The node of a pod that uses the claim now: a RWO volume can only be mounted there. */
  nodeName?: string;
  copy: CopyOptions;
}

export function buildProbePod(s: ProbePodSpec): Pod {
  const script = s.sourceClaim
    ? `printf '${PROBE_MARK}%s\\n' "$(du -sxB1 /src | cut -f1)"`
    : `printf '${PROBE_MARK}\\n'`;
  const spec: Record<string, unknown> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 0,
    // As the copy pod: root, so the admission decision and the reading are the same.
    securityContext: { runAsUser: 0, runAsGroup: 0 },
    containers: [
      {
        name: 'probe',
        image: s.copy.image,
        imagePullPolicy: s.copy.imagePullPolicy,
        command: ['sh', '-c', script],
        securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false },
        ...(s.sourceClaim ? { volumeMounts: [{ name: 'src', mountPath: '/src', readOnly: true }] } : {}),
      },
    ],
    ...(s.sourceClaim
      ? { volumes: [{ name: 'src', persistentVolumeClaim: { claimName: s.sourceClaim, readOnly: true } }] }
      : {}),
  };
  // Next to the pod that uses the claim now, else placed as the copy pod will be.
  if (s.nodeName) spec.nodeName = s.nodeName;
  else applyPlacement(spec, { ...s, copy: { ...s.copy, tolerations: [] } });
  if (s.copy.tolerations.length > 0) spec.tolerations = s.copy.tolerations.map((t) => ({ ...t }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels } },
    spec: spec as Pod['spec'],
  };
}
