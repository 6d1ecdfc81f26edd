// The Block engine's copy pod manifest: both claims mapped as raw devices (volumeDevices), the
// source read-only. Pure, so the plan (--dry-run) shows exactly what is created and tests check it.
import type { CopyPodRequest } from '../../core/copy-engine.js';
import type { Pod } from '../../core/types.js';
import { COPY_POD_HASH, copyPod, copyPodHash, copyPodSpec } from '../shared/copy-pod.js';
import { blockCopyScript, SOURCE_DEVICE, TARGET_DEVICE } from './script.js';

/** The same annotation as the tar engine's: a pending pod whose hash differs is replaced. */
export const BLOCK_POD_HASH = COPY_POD_HASH;

/** What a re-run may change, and the engine's name: a pod another engine made is never taken for this one's. */
export const blockPodHash = (s: CopyPodRequest): string => copyPodHash(s, 'block');

export function buildBlockCopyPod(s: CopyPodRequest): Pod {
  // The source is mapped read-only by the kubelet (the container cannot write it); root opens
  // the device nodes, which the runtime creates owned by root.
  const spec = copyPodSpec(s, blockCopyScript(s.verify), {
    volumeDevices: [
      { name: 'src', devicePath: SOURCE_DEVICE },
      { name: 'dst', devicePath: TARGET_DEVICE },
    ],
  });
  return copyPod(s, spec, blockPodHash(s));
}
