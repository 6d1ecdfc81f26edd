// The tar engine's copy pod manifest: pure, so the plan (--dry-run) shows exactly what is created
// and tests check it.
import type { CopyPodRequest } from '../../core/copy-engine.js';
import type { Pod } from '../../core/types.js';
import { prepareFunction } from './prepare.js';
import { copyScript } from './script.js';
import { COPY_POD_HASH, copyPod, copyPodHash as sharedHash, copyPodSpec } from '../shared/copy-pod.js';

export { COPY_POD_HASH };

/** What a re-run may change in the pod (image, placement, verification). */
export const copyPodHash = (s: CopyPodSpec): string => sharedHash(s);

/** The tar engine's pod request (the port's, unchanged). */
export type CopyPodSpec = CopyPodRequest;

export function buildCopyPod(s: CopyPodSpec): Pod {
  const script = copyScript(s.verify);
  const spec = copyPodSpec(
    s,
    script,
    {
      volumeMounts: [
        { name: 'src', mountPath: '/src', readOnly: true },
        { name: 'dst', mountPath: '/dst' },
      ],
    },
    // A waiting pod's prepare is a warm pass of this same script.
    s.awaitGo ? prepareFunction(script) : undefined,
  );
  return copyPod(s, spec, copyPodHash(s));
}
