// Reads the tar copy pod's `PVMOVE ...` log lines (written by script.ts) and turns tar checkpoints
// into bytes done, rate and ETA. Pure: the copy step feeds it log text and timestamps.
import type { CopyReport, ProgressFigures, ProgressSample } from '../../core/copy-engine.js';

/** The report as this engine's log fills it in. */
export type CopyLogState = CopyReport;

export function emptyCopyLog(): CopyLogState {
  return { checkpoint: 0, copyDone: false, tarMessages: [] };
}

function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-z_]+)=(\S+)/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Folds log lines into the state; safe to feed overlapping windows of the log (values only grow). */
export function readCopyLog(state: CopyLogState, log: string): CopyLogState {
  const s: CopyLogState = { ...state, tarMessages: [...state.tarMessages] };
  for (const raw of log.split('\n')) {
    // tar prints its checkpoint echo on stderr as "tar: PVMOVE progress ...".
    const line = raw.trim().replace(/^tar: (?=PVMOVE )/, '');
    if (!line) continue;
    if (!line.startsWith('PVMOVE ')) {
      if (/^(tar|find|du|sha256sum|bash|cmp): /.test(line)) {
        if (!s.tarMessages.includes(line)) s.tarMessages = [...s.tarMessages, line].slice(-5);
      }
      continue;
    }
    const body = line.slice('PVMOVE '.length);
    if (body.startsWith('progress ')) {
      const cp = num(fields(body).checkpoint);
      if (cp !== undefined && cp > s.checkpoint) s.checkpoint = cp;
    } else if (body.startsWith('total_bytes=')) {
      const f = fields(body);
      s.totalBytes = num(f.total_bytes);
      s.files = num(f.files);
      s.usedBytes = num(f.used_bytes);
      s.archiveRecords = num(f.archive_records);
      s.checkpointRecords = num(f.checkpoint_records);
    } else if (body.startsWith('fingerprint=')) {
      s.fingerprint = fields(body).fingerprint;
    } else if (body.startsWith('earlier-copy ')) {
      const [verdict = '', ...detail] = body.slice('earlier-copy '.length).split(' ');
      if (verdict === 'unchanged' || verdict === 'source-changed' || verdict === 'target-differs')
        s.earlierCopy = { verdict, detail: detail.join(' ') };
    } else if (body === 'copy done' || body.startsWith('copy done ')) {
      s.copyDone = true;
    } else if (body.startsWith('verify ok') || body.startsWith('verify skipped')) {
      s.verifyOk = body;
    } else if (body.startsWith('error ')) {
      s.error = body.slice('error '.length);
    }
  }
  return s;
}

/** Fraction of the copy done, from tar's records written against the estimated archive size. */
export function copyFraction(s: CopyLogState): number | undefined {
  if (s.copyDone) return 1;
  if (!s.archiveRecords || !s.checkpointRecords) return undefined;
  // The estimate ignores long-name headers and sparse maps; never claim 100% before tar is done.
  return Math.min((s.checkpoint * s.checkpointRecords) / s.archiveRecords, 0.99);
}

/** Bytes done/total, and rate and ETA over the samples (first to last, so bursts average out). */
export function progressFigures(s: CopyLogState, samples: ProgressSample[]): ProgressFigures | undefined {
  const fraction = copyFraction(s);
  if (fraction === undefined || s.totalBytes === undefined) return undefined;
  const bytesDone = Math.round(fraction * s.totalBytes);
  const out: ProgressFigures = {
    bytesDone,
    bytesTotal: s.totalBytes,
    percent: Math.round(fraction * 1000) / 10,
  };
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && last.atMs > first.atMs && last.bytesDone > first.bytesDone) {
    const rate = ((last.bytesDone - first.bytesDone) * 1000) / (last.atMs - first.atMs);
    out.rateBytesPerSecond = Math.round(rate);
    out.etaSeconds = Math.max(0, Math.round((s.totalBytes - bytesDone) / rate));
  }
  return out;
}
