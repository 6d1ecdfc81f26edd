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

export function emptyBlockReport(): CopyReport {
  return { checkpoint: 0, copyDone: false, tarMessages: [] };
}

function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-z_0-9]+)=(\S+)/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Folds log lines into the report; safe to feed overlapping windows of the log (values only grow). */
export function readBlockLog(report: CopyReport, log: string): CopyReport {
  const s: CopyReport = { ...report, tarMessages: [...report.tarMessages] };
  for (const raw of log.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith('PVMOVE ')) {
      if (/^(dd|blockdev|blkdiscard|sha256sum|stat|bash): /.test(line)) {
        if (!s.tarMessages.includes(line)) s.tarMessages = [...s.tarMessages, line].slice(-5);
      }
      continue;
    }
    const body = line.slice('PVMOVE '.length);
    if (body.startsWith('progress ')) {
      const bytes = num(fields(body).bytes);
      if (bytes !== undefined && bytes > s.checkpoint) s.checkpoint = bytes;
    } else if (body.startsWith('total_bytes=')) {
      const total = num(fields(body).total_bytes);
      s.totalBytes = total;
      s.usedBytes = total;
    } else if (body.startsWith('fingerprint=')) {
      s.fingerprint = fields(body).fingerprint;
    } else if (body.startsWith('earlier-copy ')) {
      const [verdict = '', ...detail] = body.slice('earlier-copy '.length).split(' ');
      if (verdict === 'unchanged' || verdict === 'source-changed' || verdict === 'target-differs')
        s.earlierCopy = { verdict, detail: detail.join(' ') };
    } else if (body === 'copy done' || body.startsWith('copy done ')) {
      s.copyDone = true;
      const bytes = num(fields(body).bytes);
      if (bytes !== undefined && bytes > s.checkpoint) s.checkpoint = bytes;
    } else if (body.startsWith('verify ok') || body.startsWith('verify skipped')) {
      s.verifyOk = body;
    } else if (body.startsWith('error ')) {
      s.error = body.slice('error '.length);
    }
  }
  return s;
}

/** Bytes done/total, and rate and ETA over the samples (first to last, so bursts average out). */
export function blockProgress(s: CopyReport, samples: ProgressSample[]): ProgressFigures | undefined {
  const total = s.totalBytes;
  if (total === undefined) return undefined;
  // dd's read counter runs up to one block ahead of what is written: never 100% before dd is done.
  const bytesDone = s.copyDone ? total : Math.min(s.checkpoint, Math.floor(total * 0.999));
  const out: ProgressFigures = {
    bytesDone,
    bytesTotal: total,
    percent: total === 0 ? 100 : Math.round((bytesDone / total) * 1000) / 10,
  };
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && last.atMs > first.atMs && last.bytesDone > first.bytesDone) {
    const rate = ((last.bytesDone - first.bytesDone) * 1000) / (last.atMs - first.atMs);
    out.rateBytesPerSecond = Math.round(rate);
    out.etaSeconds = Math.max(0, Math.round((total - bytesDone) / rate));
  }
  return out;
}
