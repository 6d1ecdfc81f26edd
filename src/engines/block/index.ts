// The Block-device engine: copies a volumeMode Block claim's device to the target claim's device
// with dd over the source's length (script.ts), in a pod that maps both claims as devices (pod.ts),
// and reads its `PVMOVE ...` lines (log.ts). Both claims must be Block; the target at least as
// large as the source (the pod refuses otherwise).
import type { CopyEngine } from '../../core/copy-engine.js';
import { blockProgress, emptyBlockReport, readBlockLog } from './log.js';
import { BLOCK_POD_HASH, buildBlockCopyPod } from './pod.js';

export const blockEngine: CopyEngine = {
  name: 'block',
  buildPod: buildBlockCopyPod,
  podHash: (pod) => pod.metadata.annotations?.[BLOCK_POD_HASH],
  emptyReport: emptyBlockReport,
  readLog: readBlockLog,
  progress: blockProgress,
};
