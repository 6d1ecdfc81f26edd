// Which claims a move is about: one or more names, the claims of a StatefulSet (statefulset/NAME),
// claims by label (-l) or by class (--from-class), in one namespace or every one (-A). Parsing is
// pure (a usage error never needs a cluster); resolving reads the claims, never changes anything.
import type { ClusterPort } from '../core/cluster.js';
import { LABEL_MANAGED_BY, LABEL_ROLE, MANAGED_BY } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { Pvc } from '../core/types.js';

export type Selection =
  | { kind: 'names'; names: string[] }
  /** `typed`: the word as the user wrote it (sts/db, statefulset.apps/db), repeated in printed commands. */
  | { kind: 'statefulset'; typed: string; name: string; template?: string }
  | { kind: 'query'; selector?: string; fromClass?: string; allNamespaces: boolean };

/** The selection flags as yargs hands them over. */
export interface SelectionArgv {
  claims?: string[];
  selector?: string;
  fromClass?: string;
  allNamespaces?: boolean;
  template?: string;
  keepTemplate?: boolean;
  namespace?: string;
}

/** What resolving a selection reads. */
export type SelectionPort = Pick<
  ClusterPort,
  'getOwnerState' | 'getClaimTemplates' | 'listPvcs' | 'listJournals'
>;

/** The claims of one namespace a batch moves. */
export interface Selected {
  namespace: string;
  claims: string[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const STATEFULSET_KINDS = ['statefulset', 'statefulsets', 'sts', 'statefulset.apps', 'statefulsets.apps'];

function checkName(what: string, value: string): void {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new UsageError(`${what} ${JSON.stringify(value)} is not a valid Kubernetes name`);
  }
}

/** Validates the selection flags (no cluster needed). */
export function parseSelection(a: SelectionArgv): Selection {
  const words = (a.claims ?? []).map(String);
  const query = a.selector !== undefined || a.fromClass !== undefined;
  const owners = words.filter((w) => w.includes('/'));
  if (a.keepTemplate && owners.length === 0)
    throw new UsageError(
      '--keep-template only applies to statefulset/NAME: a StatefulSet whose template the move would rewrite',
    );
  if (owners.length > 0) {
    const word = owners[0]!;
    if (words.length > 1)
      throw new UsageError(
        `${word} selects the claims of the StatefulSet on its own: name no other claim or StatefulSet with it`,
      );
    if (query) throw new UsageError(`select claims with ${word} or with -l/--from-class, not both`);
    if (a.allNamespaces)
      throw new UsageError(`-A needs -l or --from-class: ${word} is in one namespace, pass -n NAMESPACE`);
    const slash = word.indexOf('/');
    const kind = word.slice(0, slash);
    const name = word.slice(slash + 1);
    if (!STATEFULSET_KINDS.includes(kind))
      throw new UsageError(
        `${word}: only statefulset/NAME (or sts/NAME) selects claims by their owner; name the claims, or select them with -l`,
      );
    checkName('StatefulSet', name);
    if (a.template !== undefined) checkName('--template', a.template);
    return {
      kind: 'statefulset',
      typed: word,
      name,
      ...(a.template !== undefined ? { template: a.template } : {}),
    };
  }
  if (a.template !== undefined)
    throw new UsageError(
      '--template picks a volumeClaimTemplate of a StatefulSet: use it with statefulset/NAME, e.g. `kubectl pvmove statefulset/db --template data --to-class fast`',
    );
  if (query) {
    if (words.length > 0)
      throw new UsageError(
        `name the claims (${words.join(' ')}) or select them with -l/--from-class, not both`,
      );
    if (a.selector !== undefined && a.selector.trim() === '')
      throw new UsageError('-l needs a label selector, e.g. `-l app=kafka`');
    if (a.fromClass !== undefined) checkName('--from-class', a.fromClass);
    if (a.allNamespaces && a.namespace !== undefined)
      throw new UsageError('pass -n NAMESPACE or -A, not both');
    return {
      kind: 'query',
      ...(a.selector !== undefined ? { selector: a.selector } : {}),
      ...(a.fromClass !== undefined ? { fromClass: a.fromClass } : {}),
      allNamespaces: a.allNamespaces ?? false,
    };
  }
  if (a.allNamespaces)
    throw new UsageError(
      '-A needs -l SELECTOR or --from-class CLASS: claims named on the command line are in one namespace',
    );
  if (words.length === 0)
    throw new UsageError(
      'name the PersistentVolumeClaim to move, e.g. `kubectl pvmove data --to-class fast`',
    );
  for (const w of words) checkName('claim', w);
  const twice = words.find((w, i) => words.indexOf(w) !== i);
  if (twice !== undefined) throw new UsageError(`claim ${twice} is named twice: name each claim once`);
  return { kind: 'names', names: words };
}

/** One claim named on the command line: the single move, exactly as before batches existed. */
export function singleClaim(s: Selection): string | undefined {
  return s.kind === 'names' && s.names.length === 1 ? s.names[0] : undefined;
}

/** The selection as the user typed it, for the commands a batch prints (resume, re-run). */
export function selectionWords(s: Selection): string[] {
  switch (s.kind) {
    case 'names':
      return [...s.names];
    case 'statefulset':
      return [s.typed, ...(s.template !== undefined ? ['--template', s.template] : [])];
    case 'query':
      return [
        ...(s.selector !== undefined ? ['-l', s.selector] : []),
        ...(s.fromClass !== undefined ? ['--from-class', s.fromClass] : []),
      ];
  }
}

/** Claims pvmove created itself (the temporary target claims): never selected. */
function pvmoveOwned(pvc: Pvc): boolean {
  const labels = pvc.metadata.labels ?? {};
  return labels[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_ROLE] !== undefined;
}

/**
 * The claims to move, one group per namespace (sorted); each group is one batch. Refuses (usage
 * error, exit 2) a selection that matches nothing, saying what to check.
 */
export async function resolveSelection(
  cluster: SelectionPort,
  s: Selection,
  namespace: string,
): Promise<Selected[]> {
  if (s.kind === 'names') return [{ namespace, claims: [...s.names] }];
  if (s.kind === 'statefulset')
    return [{ namespace, claims: await statefulSetClaims(cluster, s, namespace) }];
  const pvcs = (await cluster.listPvcs(s.allNamespaces ? undefined : namespace, s.selector)).filter(
    (p) =>
      !pvmoveOwned(p) &&
      p.metadata.name &&
      (s.fromClass === undefined || (p.spec?.storageClassName ?? '') === s.fromClass),
  );
  const groups = new Map<string, Set<string>>();
  const add = (ns: string, claim: string): void => {
    groups.set(ns, (groups.get(ns) ?? new Set()).add(claim));
  };
  for (const p of pvcs) add(p.metadata.namespace ?? namespace, p.metadata.name!);
  if (s.fromClass !== undefined) {
    // A claim already swapped onto its new volume has the new class: a re-run of an interrupted
    // batch finds it again through its journal (a batch resumes only with all of its claims).
    for (const j of await cluster.listJournals(s.allNamespaces ? undefined : namespace)) {
      const doc = j.document;
      if (!doc || doc.phase !== 'in-progress' || doc.claims.length < 2) continue;
      const fromClass = doc.claims.some((c) => (c.original.pvc.spec?.storageClassName ?? '') === s.fromClass);
      if (fromClass) for (const c of doc.claims) add(doc.namespace || j.namespace, c.name);
    }
  }
  if (groups.size === 0) {
    const what = [
      ...(s.selector !== undefined ? [`label selector ${s.selector}`] : []),
      ...(s.fromClass !== undefined ? [`class ${s.fromClass}`] : []),
    ].join(' and ');
    const where = s.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`;
    const get = [
      'kubectl get pvc',
      s.allNamespaces ? '-A' : `-n ${namespace}`,
      ...(s.selector !== undefined ? [`-l '${s.selector}'`] : []),
    ].join(' ');
    throw new UsageError(
      `no claim ${where} has ${what}; nothing was changed`,
      `List the claims with \`${get}\`${s.fromClass !== undefined ? ' (column STORAGECLASS)' : ''} and fix the selection.`,
    );
  }
  return [...groups.keys()].sort().map((ns) => ({ namespace: ns, claims: [...groups.get(ns)!].sort() }));
}

async function statefulSetClaims(
  cluster: SelectionPort,
  s: Extract<Selection, { kind: 'statefulset' }>,
  namespace: string,
): Promise<string[]> {
  const where = `StatefulSet ${namespace}/${s.name}`;
  const state = await cluster.getOwnerState(namespace, { kind: 'StatefulSet', name: s.name });
  if (!state.exists)
    throw new UsageError(
      `${where} does not exist; nothing was changed`,
      `List the StatefulSets with \`kubectl get statefulsets -n ${namespace}\`.`,
    );
  const all = (await cluster.getClaimTemplates(namespace, s.name)).map((t) => t.name);
  if (all.length === 0)
    throw new UsageError(
      `${where} has no volumeClaimTemplates, so it has no claims of its own; nothing was changed`,
      'Name the claims its pods mount instead: `kubectl pvmove CLAIM... --to-class CLASS`.',
    );
  if (s.template !== undefined && !all.includes(s.template))
    throw new UsageError(
      `${where} has no volumeClaimTemplate ${s.template} (it has ${all.join(', ')}); nothing was changed`,
      `Pass one of them to --template, or leave --template out to move the claims of every template.`,
    );
  const templates = s.template !== undefined ? [s.template] : all;
  const names = new Set(
    (await cluster.listPvcs(namespace)).filter((p) => !pvmoveOwned(p)).map((p) => p.metadata.name ?? ''),
  );
  const claims: string[] = [];
  for (const t of templates) {
    const prefix = `${t}-${s.name}-`;
    const ordinals = [...names]
      .filter((n) => n.startsWith(prefix) && /^(0|[1-9][0-9]*)$/.test(n.slice(prefix.length)))
      .map((n) => Number(n.slice(prefix.length)))
      .sort((x, y) => x - y);
    claims.push(...ordinals.map((o) => `${prefix}${o}`));
  }
  if (claims.length === 0)
    throw new UsageError(
      `${where} has no claims yet (none named ${templates.map((t) => `${t}-${s.name}-N`).join(' or ')}); nothing was changed`,
      `Check with \`kubectl get pvc -n ${namespace}\`; a StatefulSet creates its claims when its pods are first scheduled.`,
    );
  return claims;
}
