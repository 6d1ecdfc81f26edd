// The tar engine's copy pod manifest: pure, so the plan (--dry-run) shows exactly what is created
// and tests check it.
import type { CopyPodRequest } from '../../core/copy-engine.js';
import type { Pod } from '../../core/types.js';
import { copyScript, EXPECT_FINGERPRINT_ENV } from './script.js';
import { COPY_POD_HASH, copyPod, copyPodHash as sharedHash } from '../shared/copy-pod.js';

export const COPY_CONTAINER = 'copy';

export { COPY_POD_HASH };

/** What a re-run may change in the pod (image, placement, verification). */
export const copyPodHash = (s: CopyPodSpec): string => sharedHash(s);

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
  return copyPod(s, spec, copyPodHash(s));
}
