// What following a copy pod takes, for the copy step and the warm passes: its failure as one
// message and its progress as one line.
import type { CopyEngine, CopyReport, ProgressSample } from './copy-engine.js';
import { formatBytes } from './quantity.js';
import type { Pod } from './types.js';
import type { StepContext } from './step.js';

function exitCodeOf(pod: Pod): number | undefined {
  return pod.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated?.exitCode;
}

export function failureText(pod: Pod, s: CopyReport): string {
  const code = exitCodeOf(pod);
  const parts = [
    `copy pod ${pod.metadata.name} failed${code !== undefined ? ` with exit code ${code}` : ''}`,
  ];
  if (s.error) parts.push(s.error);
  if (s.tarMessages.length > 0) parts.push(s.tarMessages.slice(-3).join(' | '));
  return parts.join(': ');
}

export function progressMessage(
  engine: CopyEngine,
  s: CopyReport,
  samples: ProgressSample[],
): string | undefined {
  const f = engine.progress(s, samples);
  if (!f) return undefined;
  const rate = f.rateBytesPerSecond ? `, ${formatBytes(f.rateBytesPerSecond)}/s` : '';
  const eta = f.etaSeconds !== undefined && f.percent < 100 ? `, ETA ${f.etaSeconds}s` : '';
  return `${formatBytes(f.bytesDone)} of ${formatBytes(f.bytesTotal)} (${f.percent}%)${rate}${eta}`;
}

/** The copy pod's log folded into the report: its head once (the measurement), then its tail. */
export async function readCopyLogs(
  ctx: Pick<StepContext, 'cluster' | 'engine' | 'req' | 'names'>,
  state: CopyReport,
): Promise<CopyReport> {
  const ns = ctx.req.namespace;
  const name = ctx.names.copyPod;
  let s = state;
  try {
    // The head carries the measurement line; the tail the latest checkpoint and the verdict.
    if (s.totalBytes === undefined)
      s = ctx.engine.readLog(s, await ctx.cluster.readPodLog(ns, name, { limitBytes: 64 * 1024 }));
    s = ctx.engine.readLog(s, await ctx.cluster.readPodLog(ns, name, { tailLines: 40 }));
  } catch {
    // No log yet (container creating); the next poll tries again.
  }
  return s;
}
