// `kubectl pvmove status [claim]` and `list`: what each journal says, the step a migration is at, and
// the command to run next. Pure over journals, so the text and the JSON are unit-tested.
import { downtimeMs } from './downtime.js';
import { cleanupCommand, resumeCommandFor, rollbackCommand } from './commands.js';
import { STEP_IDS, UNDO_ITINERARY } from './itinerary.js';
import { claimJournal, type Journal, type MigrationJournal } from './journal.js';

export interface MigrationStatus {
  namespace: string;
  claim: string;
  migrationId?: string;
  phase: Journal['phase'] | 'unreadable';
  createdAt?: string;
  finishedAt?: string;
  toClass?: string;
  size?: string;
  sourcePv?: string;
  targetPv?: string;
  /** Scale-down start to owners ready, once the owners are back (absent: nothing was stopped). */
  downtimeMs?: number;
  /** The warm passes made while the application ran (--precopy). */
  warm?: { passes: number; ms: number };
  /** The step the migration (or its rollback) is at: the first one not done. */
  step?: string;
  stepStatus?: 'pending' | 'started' | 'failed' | 'done';
  message?: string;
  /** The command to run next, if any. */
  next?: string;
  /** Another way forward (rollback of a migration in progress or finished). */
  alternative?: string;
  keepTargetPv?: boolean;
}

export interface JournalEntry {
  namespace: string;
  /** The ConfigMap's name. */
  name: string;
  document?: MigrationJournal;
  /** Why the journal could not be read. */
  error?: string;
}

/** One status per claim the journal holds (a journal that cannot be read gets one line saying why). */
export function statusesOf(entry: JournalEntry, kubeArgs: string[] = []): MigrationStatus[] {
  const doc = entry.document;
  if (!doc) {
    return [
      {
        namespace: entry.namespace,
        claim: entry.name.replace(/^pvmove-/, ''),
        phase: 'unreadable',
        message: `ConfigMap ${entry.name}: ${entry.error ?? 'unreadable'}`,
      },
    ];
  }
  return doc.claims.flatMap((c) => {
    const view = claimJournal(doc, c.name);
    return view ? [statusOf(view, kubeArgs)] : [];
  });
}

/** Where one claim's migration stands and what to run next. */
export function statusOf(j: Journal, kubeArgs: string[] = []): MigrationStatus {
  const c = { claim: j.claim.name, namespace: j.claim.namespace, kubeArgs };
  const base: MigrationStatus = {
    namespace: j.claim.namespace,
    claim: j.claim.name,
    migrationId: j.migrationId,
    phase: j.phase,
    createdAt: j.createdAt,
    finishedAt: j.rollback?.finishedAt ?? j.finishedAt,
    toClass: j.request.toClass,
    size: j.request.size,
    sourcePv: j.original.sourcePv.name,
    targetPv: j.original.targetPv?.name,
    ...(downtimeMs(j) !== undefined ? { downtimeMs: downtimeMs(j) } : {}),
    ...(j.warm ? { warm: { passes: j.warm.passes, ms: j.warm.ms } } : {}),
  };
  const rollback = rollbackCommand(c);
  switch (j.phase) {
    case 'in-progress': {
      // A warm pass is a step only of moves asked to make one.
      const step =
        STEP_IDS.find((s) => j.steps[s]?.status !== 'done' && (s !== 'warm-copy' || j.request.precopy)) ??
        'finish';
      const rec = j.steps[step];
      return {
        ...base,
        step,
        stepStatus: rec?.status ?? 'pending',
        ...(rec?.message ? { message: rec.message } : {}),
        next: resumeCommandFor(j, c),
        alternative: rollback,
      };
    }
    case 'finished':
      return {
        ...base,
        step: 'finish',
        stepStatus: 'done',
        next: cleanupCommand(c),
        alternative: `${rollback} --yes`,
      };
    case 'rolling-back': {
      const steps = j.rollback?.steps ?? {};
      const step = UNDO_ITINERARY.map((s) => s.id).find((s) => steps[s]?.status !== 'done') ?? 'undo-finish';
      const rec = steps[step];
      return {
        ...base,
        step,
        stepStatus: rec?.status ?? 'pending',
        ...(rec?.message ? { message: rec.message } : {}),
        next: rollback,
        keepTargetPv: j.rollback?.keepTargetPv ?? false,
      };
    }
    case 'rolled-back':
      return {
        ...base,
        step: 'undo-finish',
        stepStatus: 'done',
        keepTargetPv: j.rollback?.keepTargetPv ?? false,
        ...(j.rollback?.keepTargetPv && j.original.targetPv
          ? { message: `target PV ${j.original.targetPv.name} was kept (Retain, Released)` }
          : {}),
      };
  }
}

/** A table for `list` and `status`, one line per migration. */
export function statusTable(rows: MigrationStatus[], withNamespace: boolean): string {
  if (rows.length === 0) return 'No migrations recorded.\n';
  const header = [
    ...(withNamespace ? ['NAMESPACE'] : []),
    'CLAIM',
    'MIGRATION',
    'PHASE',
    'STEP',
    'TO',
    'NEXT',
  ];
  const lines = rows.map((r) => [
    ...(withNamespace ? [r.namespace] : []),
    r.claim,
    r.migrationId ?? '-',
    r.phase,
    r.step ? `${r.step} (${r.stepStatus ?? '?'})` : '-',
    r.toClass ? `${r.toClass} ${r.size ?? ''}`.trim() : '-',
    r.next ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((x, i) => (i === cells.length - 1 ? x : x.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[header, ...lines].map(fmt).join('\n')}\n`;
}

/** The long form of `status <claim>`. */
export function statusText(s: MigrationStatus): string {
  const lines = [`Claim:      ${s.namespace}/${s.claim}`, `Migration:  ${s.migrationId ?? '-'} (${s.phase})`];
  if (s.toClass) lines.push(`Target:     class ${s.toClass}, size ${s.size ?? '?'}`);
  if (s.sourcePv) lines.push(`Source PV:  ${s.sourcePv}`);
  if (s.targetPv) lines.push(`Target PV:  ${s.targetPv}${s.keepTargetPv ? ' (kept: Retain)' : ''}`);
  if (s.step) lines.push(`Step:       ${s.step} (${s.stepStatus ?? '?'})`);
  if (s.warm)
    lines.push(
      `Warm copy:  ${s.warm.passes} pass${s.warm.passes === 1 ? '' : 'es'} while running, ${(s.warm.ms / 1000).toFixed(1)} s`,
    );
  if (s.downtimeMs !== undefined)
    lines.push(`Downtime:   ${(s.downtimeMs / 1000).toFixed(1)} s (scale-down to ready)`);
  if (s.message) lines.push(`Message:    ${s.message}`);
  if (s.next) lines.push(`Next:       ${s.next}`);
  if (s.alternative) lines.push(`Or undo:    ${s.alternative}`);
  return `${lines.join('\n')}\n`;
}
