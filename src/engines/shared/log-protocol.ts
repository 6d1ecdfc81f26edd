// The `PVMOVE ...` line protocol every engine's script speaks: what is common to all of them
// (the fingerprint, the check of an earlier copy, copy done, the verdict, an error, and the lines
// the tools print on their own) is read here; each engine reads its own progress and totals lines.
import type { CopyReport, ProgressFigures, ProgressSample } from '../../core/copy-engine.js';

export function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-z_0-9]+)=(\S+)/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

export function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export function emptyReport(): CopyReport {
  return { checkpoint: 0, copyDone: false, tarMessages: [] };
}

export interface LogDialect {
  /** The tools whose own lines ("dd: ...") are kept for the failure message. */
  tools: RegExp;
  /** Turns a raw line into a protocol line if the engine's tools wrap it (tar's checkpoint echo). */
  unwrap?(line: string): string;
  /** The engine's own lines (progress, totals); true when it took the line. */
  read(body: string, s: CopyReport): boolean;
}

/** Folds log lines into the report; safe to feed overlapping windows of the log (values only grow). */
export function readLog(report: CopyReport, log: string, d: LogDialect): CopyReport {
  const s: CopyReport = { ...report, tarMessages: [...report.tarMessages] };
  for (const raw of log.split(/\r?\n|\r/)) {
    const line = d.unwrap ? d.unwrap(raw.trim()) : raw.trim();
    if (!line) continue;
    if (!line.startsWith('PVMOVE ')) {
      if (d.tools.test(line) && !s.tarMessages.includes(line))
        s.tarMessages = [...s.tarMessages, line].slice(-5);
      continue;
    }
    const body = line.slice('PVMOVE '.length);
    if (d.read(body, s)) continue;
    if (body.startsWith('fingerprint=')) {
      s.fingerprint = fields(body).fingerprint;
    } else if (body.startsWith('earlier-copy ')) {
      const [verdict = '', ...detail] = body.slice('earlier-copy '.length).split(' ');
      if (verdict === 'unchanged' || verdict === 'source-changed' || verdict === 'target-differs')
        s.earlierCopy = { verdict, detail: detail.join(' ') };
    } else if (body === 'copy done' || body.startsWith('copy done ')) {
      s.copyDone = true;
    } else if (body.startsWith('verify ok') || body.startsWith('verify skipped')) {
      s.verifyOk = body;
    } else if (body.startsWith('warm done')) {
      s.warmDone = body;
    } else if (body.startsWith('error ')) {
      s.error = body.slice('error '.length);
    }
  }
  return s;
}

/** Bytes done of total, with rate and ETA over the samples (first to last, so bursts average out). */
export function figures(
  bytesDone: number,
  total: number,
  samples: ProgressSample[],
  fraction = total === 0 ? 1 : bytesDone / total,
): ProgressFigures {
  const out: ProgressFigures = { bytesDone, bytesTotal: total, percent: Math.round(fraction * 1000) / 10 };
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && last.atMs > first.atMs && last.bytesDone > first.bytesDone) {
    const rate = ((last.bytesDone - first.bytesDone) * 1000) / (last.atMs - first.atMs);
    out.rateBytesPerSecond = Math.round(rate);
    out.etaSeconds = Math.max(0, Math.round((total - bytesDone) / rate));
  }
  return out;
}
