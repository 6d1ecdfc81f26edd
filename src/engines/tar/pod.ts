// The tar engine's copy pod manifest: pure, so the plan (--dry-run) shows exactly what is created
// and tests check it.
import type { CopyPodRequest } from '../../core/copy-engine.js';
import type { Pod } from '../../core/types.js';
import { copyScript, EXPECT_FINGERPRINT_ENV } from './script.js';
import { shortHash } from '../../core/names.js';

export const COPY_CONTAINER = 'copy';

/**
 * A hash of what the user can change between runs (image, placement, verification). The server
 * adds default tolerations and fields, so comparing specs would always differ; this does not.
 */
export const COPY_POD_HASH = 'pvmove.kubectl.io/pod-hash';

export function copyPodHash(s: CopyPodSpec): string {
  return shortHash(
    JSON.stringify([
      s.copy.image,
      s.copy.imagePullPolicy,
      s.copy.tolerations,
      s.copy.nodeSelector,
      s.verify,
      s.sourceNodeAffinity ?? null,
    ]),
    12,
  );
}

/** The tar engine's pod request (the port's, unchanged). */
export type CopyPodSpec = CopyPodRequest;

export function buildCopyPod(s: CopyPodSpec): Pod {
  const spec: Record<string, unknown> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    // Root, so every file is readable and ownership can be restored (crane#213: a non-root
    // copier silently skips what it cannot read).
    securityContext: { runAsUser: 0, runAsGroup: 0 },
    containers: [
      {
        name: COPY_CONTAINER,
        image: s.copy.image,
        imagePullPolicy: s.copy.imagePullPolicy,
        command: ['bash', '-c', copyScript(s.verify)],
        ...(s.expectFingerprint
          ? { env: [{ name: EXPECT_FINGERPRINT_ENV, value: s.expectFingerprint }] }
          : {}),
        securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false },
        volumeMounts: [
          { name: 'src', mountPath: '/src', readOnly: true },
          { name: 'dst', mountPath: '/dst' },
        ],
      },
    ],
    volumes: [
      { name: 'src', persistentVolumeClaim: { claimName: s.sourceClaim, readOnly: true } },
      { name: 'dst', persistentVolumeClaim: { claimName: s.targetClaim } },
    ],
  };
  if (s.sourceNodeAffinity && s.sourceNodeAffinity.nodeSelectorTerms.length > 0) {
    spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: JSON.parse(JSON.stringify(s.sourceNodeAffinity.nodeSelectorTerms)) as unknown,
        },
      },
    };
  }
  if (s.copy.tolerations.length > 0) spec.tolerations = s.copy.tolerations.map((t) => ({ ...t }));
  if (Object.keys(s.copy.nodeSelector).length > 0) spec.nodeSelector = { ...s.copy.nodeSelector };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...s.labels },
      annotations: { [COPY_POD_HASH]: copyPodHash(s) },
    },
    spec: spec as Pod['spec'],
  };
}
