// The Block engine's copy pod manifest: both claims mapped as raw devices (volumeDevices), the
// source read-only. Pure, so the plan (--dry-run) shows exactly what is created and tests check it.
import type { CopyPodRequest } from '../../core/copy-engine.js';
import type { Pod } from '../../core/types.js';
import { COPY_POD_HASH, copyPod, copyPodHash } from '../shared/copy-pod.js';
import { blockCopyScript, EXPECT_FINGERPRINT_ENV, SOURCE_DEVICE, TARGET_DEVICE } from './script.js';

export const BLOCK_COPY_CONTAINER = 'copy';

/** The same annotation as the tar engine's: a pending pod whose hash differs is replaced. */
export const BLOCK_POD_HASH = COPY_POD_HASH;

/** What a re-run may change, and the engine's name: a pod another engine made is never taken for this one's. */
export const blockPodHash = (s: CopyPodRequest): string => copyPodHash(s, 'block');

export function buildBlockCopyPod(s: CopyPodRequest): Pod {
  const spec: Record<string, unknown> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    // Root opens the device nodes (the runtime creates them owned by root); no privilege is
    // needed: the claims' devices are the only ones the container may open.
    securityContext: { runAsUser: 0, runAsGroup: 0 },
    containers: [
      {
        name: BLOCK_COPY_CONTAINER,
        image: s.copy.image,
        imagePullPolicy: s.copy.imagePullPolicy,
        command: ['bash', '-c', blockCopyScript(s.verify)],
        ...(s.expectFingerprint
          ? { env: [{ name: EXPECT_FINGERPRINT_ENV, value: s.expectFingerprint }] }
          : {}),
        securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false },
        volumeDevices: [
          { name: 'src', devicePath: SOURCE_DEVICE },
          { name: 'dst', devicePath: TARGET_DEVICE },
        ],
      },
    ],
    volumes: [
      // readOnly: the kubelet maps the source device read-only (the container cannot write it).
      { name: 'src', persistentVolumeClaim: { claimName: s.sourceClaim, readOnly: true } },
      { name: 'dst', persistentVolumeClaim: { claimName: s.targetClaim } },
    ],
  };
  return copyPod(s, spec, blockPodHash(s));
}
