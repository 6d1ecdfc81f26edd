// The --timeout-* flags, one per wait of the steps (Timeouts): declared, parsed and repeated in the
// printed resume command from this one table. Each command offers the waits of its own steps and
// describes them in its own words; the default in the help text comes from DEFAULT_TIMEOUTS, so
// the two cannot drift apart.
import type { Argv } from 'yargs';
import { DEFAULT_TIMEOUTS } from '../core/defaults.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import type { Timeouts } from '../core/types.js';

/** The timeout flags as yargs hands them over. */
export interface TimeoutArgv {
  timeoutBind?: string;
  timeoutStart?: string;
  timeoutCopy?: string;
  timeoutScale?: string;
  timeoutDelete?: string;
  timeoutReady?: string;
}

type Wait = keyof Timeouts;

/** Each wait's flag and argv key, in the order they are declared, checked and repeated. */
const FLAGS: Record<Wait, { flag: string; argv: keyof TimeoutArgv }> = {
  bindMs: { flag: 'timeout-bind', argv: 'timeoutBind' },
  startMs: { flag: 'timeout-start', argv: 'timeoutStart' },
  copyMs: { flag: 'timeout-copy', argv: 'timeoutCopy' },
  scaleMs: { flag: 'timeout-scale', argv: 'timeoutScale' },
  deleteMs: { flag: 'timeout-delete', argv: 'timeoutDelete' },
  readyMs: { flag: 'timeout-ready', argv: 'timeoutReady' },
};
/** Every wait: the move has them all. */
export const ALL_WAITS = Object.keys(FLAGS) as Wait[];

/** Declares the flags of the waits described, e.g. `{ deleteMs: 'Max wait for deletions' }`. */
export function withTimeoutFlags<T>(y: Argv<T>, described: Partial<Record<Wait, string>>): Argv<T> {
  let out = y;
  for (const wait of ALL_WAITS) {
    const what = described[wait];
    if (what === undefined) continue;
    const describe = `${what} (default ${formatDuration(DEFAULT_TIMEOUTS[wait])})`;
    out = out.option(FLAGS[wait].flag, { type: 'string', describe });
  }
  return out;
}

/** The waits asked for, from their flags or their defaults; the first bad value is refused. */
export function parseTimeouts<W extends Wait>(a: TimeoutArgv, waits: readonly W[]): Pick<Timeouts, W> {
  const out = {} as Pick<Timeouts, W>;
  for (const wait of ALL_WAITS.filter((w): w is W => waits.includes(w as W))) {
    const { flag, argv } = FLAGS[wait];
    const value = a[argv];
    if (value === undefined) {
      out[wait] = DEFAULT_TIMEOUTS[wait];
      continue;
    }
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0)
      throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a duration like 90s, 10m or 2h`);
    out[wait] = ms;
  }
  return out;
}

/** The timeout flags as given, to repeat in a printed command. */
export function timeoutArgs(a: TimeoutArgv): string[] {
  return ALL_WAITS.flatMap((wait) => {
    const value = a[FLAGS[wait].argv];
    return value === undefined ? [] : [`--${FLAGS[wait].flag}`, value];
  });
}
