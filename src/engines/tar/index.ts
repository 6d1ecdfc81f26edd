// The GNU tar engine: one tar pipe with a bounded parallel readahead (script.ts), its pod
// (pod.ts) and the parser of the `PVMOVE ...` lines its script prints (log.ts).
import type { CopyEngine } from '../../core/copy-engine.js';
import { emptyCopyLog, progressFigures, readCopyLog } from './log.js';
import { buildCopyPod, COPY_POD_HASH } from './pod.js';

export const tarEngine: CopyEngine = {
  name: 'tar',
  buildPod: buildCopyPod,
  podHash: (pod) => pod.metadata.annotations?.[COPY_POD_HASH],
  emptyReport: emptyCopyLog,
  readLog: readCopyLog,
  progress: progressFigures,
};
