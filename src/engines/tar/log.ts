// Reads the tar copy pod's `PVMOVE ...` log lines (written by script.ts) and turns tar checkpoints
// into bytes done, rate and ETA. Pure: the copy step feeds it log text and timestamps.
import type { CopyReport, ProgressFigures, ProgressSample } from '../../core/copy-engine.js';
import { emptyReport, fields, figures, num, readLog, type LogDialect } from '../shared/log-protocol.js';

/**
 * The report as this engine's log fills it in; `copiedRecords`: the archive records the large
 * files `cp` copied before tar stand for (tar's own checkpoints count only what it archives).
 */
export type CopyLogState = CopyReport & { copiedRecords?: number };

export const emptyCopyLog = emptyReport;

/** tar's own lines: its checkpoint echo ("tar: PVMOVE progress ...") and the copy's totals. */
const TAR_DIALECT: LogDialect = {
  tools: /^(tar|find|du|sha256sum|bash|cmp|cp): /,
  // tar prints its checkpoint echo on stderr as "tar: PVMOVE progress ...".
  unwrap: (line) => line.replace(/^tar: (?=PVMOVE )/, ''),
  read(body, s) {
    if (body.startsWith('progress ')) {
      const f = fields(body);
      const cp = num(f.checkpoint);
      if (cp !== undefined && cp > s.checkpoint) s.checkpoint = cp;
      const copied = num(f.copied_records);
      const state = s as CopyLogState;
      if (copied !== undefined && copied > (state.copiedRecords ?? 0)) state.copiedRecords = copied;
      return true;
    }
    if (body.startsWith('total_bytes=')) {
      const f = fields(body);
      s.totalBytes = num(f.total_bytes);
      s.files = num(f.files);
      s.usedBytes = num(f.used_bytes);
      s.archiveRecords = num(f.archive_records);
      s.checkpointRecords = num(f.checkpoint_records);
      return true;
    }
    return false;
  },
};

/** Folds log lines into the state; safe to feed overlapping windows of the log (values only grow). */
export function readCopyLog(state: CopyLogState, log: string): CopyLogState {
  return readLog(state, log, TAR_DIALECT);
}

/** Fraction of the copy done, from tar's records written against the estimated archive size. */
export function copyFraction(s: CopyLogState): number | undefined {
  if (s.copyDone) return 1;
  if (!s.archiveRecords || !s.checkpointRecords) return undefined;
  // The estimate ignores long-name headers and sparse maps; never claim 100% before tar is done.
  return Math.min((s.checkpoint * s.checkpointRecords + (s.copiedRecords ?? 0)) / s.archiveRecords, 0.99);
}

/** Bytes done/total, and rate and ETA over the samples (first to last, so bursts average out). */
export function progressFigures(s: CopyLogState, samples: ProgressSample[]): ProgressFigures | undefined {
  const fraction = copyFraction(s);
  if (fraction === undefined || s.totalBytes === undefined) return undefined;
  return figures(Math.round(fraction * s.totalBytes), s.totalBytes, samples, fraction);
}
