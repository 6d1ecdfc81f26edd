// A batch: several claims moved as one migration (a whole StatefulSet, claims by label or by class,
// several names). One journal holds every claim; the claims walk the itinerary in lockstep, so every
// owner is stopped once (the first claim's scale-down stops it, the others find it stopped) and
// started once, after every claim is on its new volume. The copies run side by side (--parallel).
// A failure of one claim stops the batch after the step every claim was at: a re-run continues all
// of them, a rollback returns all of them.
import { downtimeMs, downtimeText } from './downtime.js';
import type { Plan, PlanContext } from './plan.js';
import {
  claimWalker,
  journalHandleFor,
  prepareClaim,
  readForMove,
  type Prepared,
  type Recorded,
  type RunnerDeps,
} from './runner.js';
import type { StoredJournal } from './cluster.js';
import type { TemplateRecord } from './journal.js';
import type { MigrationRequest, OwnerId } from './types.js';
import { basePermissions, missingPermissionsProblem } from './access.js';
import { PreflightError, UsageError } from './errors.js';
import { cleanupCommand, rollbackCommand } from './commands.js';
import { ITINERARY } from './itinerary.js';
import { sharedReads } from './shared-reads.js';
import { rewriteTemplate } from './steps/rewrite-template.js';
import { batchJournalName, namesFor, newMigrationId } from './names.js';
import { ownerLabel } from './owners.js';

export interface BatchRequest {
  /** What every claim is moved with (class, size, verification, copy options, timeouts), and the
   * commands to print: they name the selection (e.g. `kubectl pvmove statefulset/db ...`). Its
   * `claim` is the first claim's name. */
  base: MigrationRequest;
  /** The claims, in the namespace of `base`. */
  claims: string[];
  /** How many claims copy at the same time. */
  parallel: number;
  /** Rewrite the volumeClaimTemplates of StatefulSets whose every claim is in the batch. */
  rewriteTemplates: boolean;
}

export interface PreparedBatch {
  migrationId: string;
  /** The ConfigMap of the batch's journal. */
  journalName: string;
  stored?: StoredJournal;
  /** Every claim to move, each prepared as a single move would be (its plan included). */
  claims: Prepared[];
  /** Claims that already have the class and size asked for: left out, with why. */
  skipped: { claim: string; message: string }[];
  /** The StatefulSet templates the batch rewrites (empty with --keep-template). */
  templates: TemplateRecord[];
  /** The plans of the claims, in order, and the notes of the whole batch. */
  plans: Plan[];
  notes: string[];
}
export const BATCH_PARALLEL_DEFAULT = 4;

/** Steps that act on owners shared by the claims: one claim at a time, so each owner is stopped (started) once. */
const ONE_AT_A_TIME = new Set([
  'scale-down',
  'scale-up',
  'rewrite-template',
  'record-journal',
  'undo-stop-owners',
  'undo-restore-owners',
  'undo-rewrite-template',
]);

/** Runs `work` on every item, at most `limit` at once; waits for all, then throws the first failure. */
export async function eachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (errors.length > 0) throw errors[0];
}

/** A claim's own request: the batch's flags; resume names the batch, cleanup and rollback the claim. */
const requestFor = (b: BatchRequest, claim: string): MigrationRequest => {
  const c = { claim, namespace: b.base.namespace, kubeArgs: b.base.commands.kubeArgs };
  return {
    ...b.base,
    claim,
    commands: { ...b.base.commands, cleanup: cleanupCommand(c), rollback: rollbackCommand(c) },
  };
};

export async function prepareBatch(b: BatchRequest, deps: RunnerDeps): Promise<PreparedBatch> {
  const ns = b.base.namespace;
  const resume = b.base.commands.resume;
  const missing = await deps.cluster.missingPermissions(basePermissions(ns));
  if (missing.length > 0) throw new PreflightError(missingPermissionsProblem(missing), resume);
  if (b.claims.length === 0) throw new UsageError('the selection holds no claim', 'Nothing was changed.');

  // One migration per claim (invariant 9): either none of the claims has one under way, or all of
  // them are the claims of one batch, which this run resumes.
  const recorded = new Map<string, Recorded>();
  await eachLimited(b.claims, 8, async (claim) => {
    recorded.set(claim, await readForMove(requestFor(b, claim), deps));
  });
  const under = [...recorded.entries()].filter(([, r]) => r.stored);
  const ids = new Set(under.map(([, r]) => r.stored?.journal.migrationId));
  const stored = under[0]?.[1].stored;
  if (ids.size > 1 || (stored && stored.document.claims.length === 1 && b.claims.length > 1)) {
    throw new UsageError(
      `some of these claims are in other migrations (${under.map(([c, r]) => `${c}: ${r.stored?.journal.migrationId}`).join(', ')}); finish or roll those back first, then move the rest`,
      'Nothing was changed.',
    );
  }
  if (stored) {
    const held = stored.document.claims.map((c) => c.name).sort();
    const asked = [...b.claims].sort();
    if (held.join(',') !== asked.join(',')) {
      throw new UsageError(
        `migration ${stored.journal.migrationId} moves claims ${held.join(', ')}, not ${asked.join(', ')}; resume it with the selection it was started with, or roll it back with \`kubectl pvmove rollback ${held[0]} -n ${ns}\``,
        'Nothing was changed.',
      );
    }
  }
  const migrationId = stored?.journal.migrationId ?? (deps.newId ?? newMigrationId)();
  const journalName = stored?.name ?? batchJournalName(migrationId);

  const prepared: Prepared[] = [];
  await eachLimited(b.claims, b.parallel, async (claim) => {
    const r = recorded.get(claim) ?? {};
    prepared.push(
      await prepareClaim(requestFor(b, claim), deps, r, namesFor(claim, migrationId, journalName)),
    );
  });
  prepared.sort((x, y) => b.claims.indexOf(x.names.claim) - b.claims.indexOf(y.names.claim));
  const skipped = prepared
    .filter((p) => p.nothingToDo)
    .map((p) => ({ claim: p.names.claim, message: p.nothingToDo?.message ?? '' }));
  const claims = prepared.filter((p) => !p.nothingToDo);
  const templates = stored
    ? (stored.document.templates ?? [])
    : b.rewriteTemplates
      ? await templatesToRewrite(b, deps, claims)
      : [];
  planTemplates(claims, templates);
  const notes = batchNotes(b, claims, skipped, templates);
  return {
    migrationId,
    journalName,
    ...(stored ? { stored: { document: stored.document, resourceVersion: stored.resourceVersion } } : {}),
    claims,
    skipped,
    templates,
    plans: claims.map((p) => p.plan),
    notes,
  };
}

/**
 * A claim's plan, made before the batch chose its templates, gets the rewrite of its StatefulSet's
 * (and loses the warning that the template still names the old class).
 */
function planTemplates(claims: Prepared[], templates: TemplateRecord[]): void {
  for (const p of claims) {
    const mine = templates.filter((t) =>
      p.plan.owners.some((o) => o.kind === 'StatefulSet' && o.name === t.statefulSet),
    );
    if (mine.length === 0) continue;
    const rewritten = new Set(mine.map((t) => t.statefulSet));
    p.plan.steps = p.plan.steps.map((s) => (s.id === rewriteTemplate.id ? { ...s, done: false } : s));
    const changes =
      rewriteTemplate.plan?.({
        observed: { podsUsingClaim: [], owners: [] },
        templates: mine,
      } as unknown as PlanContext) ?? [];
    const at = p.plan.changes.findIndex((c) => c.step === 'scale-up');
    p.plan.changes.splice(at < 0 ? p.plan.changes.length : at, 0, ...changes);
    p.plan.notes = p.plan.notes.filter(
      (n) => ![...rewritten].some((sts) => n.includes(`StatefulSet ${sts}'s volumeClaimTemplate`)),
    );
  }
}

/** The templates of the StatefulSets among the owners whose every existing claim is in the batch. */
async function templatesToRewrite(
  b: BatchRequest,
  deps: RunnerDeps,
  claims: Prepared[],
): Promise<TemplateRecord[]> {
  const ns = b.base.namespace;
  const owners = new Map<string, OwnerId>();
  for (const p of claims)
    for (const o of p.preflight?.owners ?? []) if (o.kind === 'StatefulSet') owners.set(o.name, o);
  const moved = new Set(claims.map((p) => p.names.claim));
  const out: TemplateRecord[] = [];
  const existing = new Set((await deps.cluster.listPvcs(ns)).map((p) => p.metadata.name ?? ''));
  for (const name of owners.keys()) {
    const manifest = await deps.cluster.getStatefulSet(ns, name);
    if (!manifest) continue;
    for (const tpl of manifest.spec.volumeClaimTemplates ?? []) {
      const t = tpl.metadata.name ?? '';
      const pattern = new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${name}-\\d+$`);
      const ofTemplate = [...existing].filter((c) => pattern.test(c));
      if (ofTemplate.length === 0 || !ofTemplate.every((c) => moved.has(c))) continue;
      const first = claims.find((p) => pattern.test(p.names.claim));
      out.push({
        statefulSet: name,
        template: t,
        original: {
          ...(tpl.spec?.storageClassName !== undefined
            ? { storageClassName: tpl.spec.storageClassName }
            : {}),
          ...(tpl.spec?.resources?.requests?.storage !== undefined
            ? { storage: tpl.spec.resources.requests.storage }
            : {}),
        },
        wanted: {
          storageClassName: first?.preflight?.targetClass ?? b.base.toClass ?? '',
          storage: first?.preflight?.targetSize ?? b.base.size ?? '',
        },
        manifest,
      });
    }
  }
  return out;
}

function batchNotes(
  b: BatchRequest,
  claims: Prepared[],
  skipped: { claim: string; message: string }[],
  templates: TemplateRecord[],
): string[] {
  const owners = new Map<string, OwnerId>();
  for (const p of claims) for (const o of p.plan.owners) owners.set(`${o.kind}/${o.name}`, o);
  const notes = [
    `${claims.length} claim${claims.length === 1 ? '' : 's'} in one migration: ${claims.map((p) => p.names.claim).join(', ')}; up to ${b.parallel} copied at the same time.`,
  ];
  if (owners.size > 0)
    notes.push(
      `Stopped once for all of them, started again once all are moved: ${[...owners.values()].map(ownerLabel).join(', ')}.`,
    );
  for (const s of skipped) notes.push(`Left out: ${s.claim}: ${s.message}`);
  for (const t of templates) {
    notes.push(
      `StatefulSet ${t.statefulSet}: volumeClaimTemplate ${t.template} is rewritten to class ${t.wanted.storageClassName}, size ${t.wanted.storage} ` +
        `(the StatefulSet is deleted with propagation Orphan while stopped and created again, identical otherwise: its pods and claims stay). ` +
        `GitOps tools (Argo CD, Flux) will show the template as drifted from your manifests: change storageClassName and storage in the source manifest to match.`,
    );
  }
  if (
    b.rewriteTemplates &&
    templates.length === 0 &&
    claims.some((p) => p.plan.owners.some((o) => o.kind === 'StatefulSet'))
  )
    notes.push('No StatefulSet template is rewritten: not every claim of a template is in this batch.');
  return notes;
}

/** The walkers of a batch, in lockstep: every claim finishes a step before any starts the next. */
export async function walkInLockstep<S extends { id: string }>(
  walkers: { walk(steps: readonly S[]): Promise<void> }[],
  steps: readonly S[],
  parallel: number,
  afterStep?: (step: S) => Promise<void>,
): Promise<void> {
  for (const step of steps) {
    await eachLimited(walkers, ONE_AT_A_TIME.has(step.id) ? 1 : parallel, (w) => w.walk([step]));
    await afterStep?.(step);
  }
}

export async function runBatch(b: BatchRequest, deps: RunnerDeps, prepared: PreparedBatch): Promise<void> {
  const ns = b.base.namespace;
  const runStart = Date.now();
  const runId = newMigrationId();
  const names = { journal: prepared.journalName, migrationId: prepared.migrationId };
  const journal = journalHandleFor(deps, ns, names, prepared.stored);

  const batchDeps: RunnerDeps = { ...deps, cluster: sharedReads(deps.cluster), claimInEvents: true };
  const walkers = prepared.claims.map((p) =>
    claimWalker(requestFor(b, p.names.claim), batchDeps, p, journal, runId),
  );
  await walkInLockstep(walkers, deps.steps ?? ITINERARY, b.parallel, async (step) => {
    // The templates to rewrite are written once every claim is in the journal.
    const first = walkers[0]?.claim;
    if (
      step.id === 'record-journal' &&
      first &&
      prepared.templates.length > 0 &&
      !journal.document?.templates
    )
      await journal.update(first, (j) => ({ ...j, templates: prepared.templates }));
  });
  const j = walkers[0] ? journal.view(walkers[0].claim) : undefined;
  const list = prepared.claims.map((p) => p.names.claim);
  // The owners are shared: every claim's records carry the same stop and start.
  const downtime = downtimeMs(j);
  deps.emit({
    type: 'result',
    status: 'done',
    migrationId: prepared.migrationId,
    message:
      `Moved ${list.length} claim${list.length === 1 ? '' : 's'} in ${ns} (${list.join(', ')}) to class ${j?.request.toClass ?? '?'}, size ${j?.request.size ?? '?'} (${downtimeText(downtime)})` +
      `${prepared.templates.length > 0 ? `; StatefulSet ${[...new Set(prepared.templates.map((t) => t.statefulSet))].join(', ')} now asks for it in its claim templates` : ''}; ` +
      `the old PVs are kept (Retain, Released). When the application is fine, run \`kubectl pvmove cleanup <claim> -n ${ns}\` for each claim`,
    next: `kubectl pvmove cleanup ${list[0] ?? '<claim>'} -n ${ns}`,
    durationMs: Date.now() - runStart,
    ...(downtime !== undefined ? { downtimeMs: downtime } : {}),
  });
}
