// What following a copy pod takes, for the copy step and the warm passes: its failure as one
// message, its progress as one line, and a sleep that ends early on an interrupt.
import type { CopyEngine, CopyReport, ProgressSample } from './copy-engine.js';
import { formatBytes } from './quantity.js';
import type { Pod } from './types.js';

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

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
