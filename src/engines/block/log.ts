// Reads the Block copy pod's `PVMOVE ...` lines (written by script.ts) into the core's CopyReport
// and turns the bytes dd has read into bytes done, rate and ETA. Pure: the copy step feeds it log
// text and timestamps.
//
// The report's fields as this engine fills them: totalBytes and usedBytes are the source device's
// size, `checkpoint` counts the bytes copied so far (the port's name comes from the tar engine),
// `tarMessages` keeps the lines the tools (dd, blockdev, blkdiscard, sha256sum) printed on their
// own, and `fingerprint` is the source's sha256 over its length (only a checksum verification, or
// the check of an earlier copy, computes it: a count verification leaves it unset, so a later run
// copies again rather than trust a copy it cannot check cheaply).
import type { CopyReport, ProgressFigures, ProgressSample } from '../../core/copy-engine.js';
import { emptyReport, fields, figures, num, readLog, type LogDialect } from '../shared/log-protocol.js';

export const emptyBlockReport = emptyReport;

/** dd's own lines: bytes read so far, the device's size, and the bytes when the copy is done. */
const BLOCK_DIALECT: LogDialect = {
  tools: /^(dd|blockdev|blkdiscard|sha256sum|stat|bash): /,
  read(body, s) {
    const bytes = num(fields(body).bytes);
    if (body.startsWith('progress ')) {
      if (bytes !== undefined && bytes > s.checkpoint) s.checkpoint = bytes;
      return true;
    }
    if (body.startsWith('total_bytes=')) {
      const total = num(fields(body).total_bytes);
      s.totalBytes = total;
      s.usedBytes = total;
      return true;
    }
    if (body === 'copy done' || body.startsWith('copy done ')) {
      s.copyDone = true;
      if (bytes !== undefined && bytes > s.checkpoint) s.checkpoint = bytes;
      return true;
    }
    return false;
  },
};

/** Folds log lines into the report; safe to feed overlapping windows of the log (values only grow). */
export function readBlockLog(report: CopyReport, log: string): CopyReport {
  return readLog(report, log, BLOCK_DIALECT);
}

/** Bytes done/total, and rate and ETA over the samples (first to last, so bursts average out). */
export function blockProgress(s: CopyReport, samples: ProgressSample[]): ProgressFigures | undefined {
  const total = s.totalBytes;
  if (total === undefined) return undefined;
  // dd's read counter runs up to one block ahead of what is written: never 100% before dd is done.
  const bytesDone = s.copyDone ? total : Math.min(s.checkpoint, Math.floor(total * 0.999));
  return figures(bytesDone, total, samples);
}
