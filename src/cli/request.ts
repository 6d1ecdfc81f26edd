// argv -> typed request, in one place (kubectl's Complete/Validate). Every message is a sentence a
// user can act on; nothing here talks to a cluster.
import { commandsFor, type Commands } from '../core/commands.js';
import { DEFAULT_COPY, DEFAULT_TIMEOUTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { parseQuantityMilli } from '../core/quantity.js';
import type { RollbackRequest } from '../core/rollback.js';
import type {
  CleanupRequest,
  MigrationRequest,
  PrecopyOptions,
  Timeouts,
  Toleration,
  VerifyMode,
} from '../core/types.js';
import { BATCH_PARALLEL_DEFAULT, type BatchRequest } from '../core/batch.js';
import { connectionArgs, type KubeArgv } from './flags.js';
import { selectionWords, type Selected, type Selection, type SelectionArgv } from './selection.js';
import { ALL_WAITS, parseTimeouts, timeoutArgs, type TimeoutArgv } from './timeout-flags.js';

export type OutputMode = 'auto' | 'tree' | 'plain' | 'json';

/** The flags as yargs hands them over (all strings, so "10" is not turned into a number). */
export interface MoveArgv extends KubeArgv, TimeoutArgv, SelectionArgv {
  claim?: string;
  /** A batch: how many claims copy at the same time (a string, checked here). */
  parallel?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  toClass?: string;
  size?: string;
  dryRun?: boolean;
  yes?: boolean;
  output?: string;
  verify?: string;
  image?: string;
  imagePullPolicy?: string;
  copyToleration?: string[];
  copyNodeSelector?: string[];
  deletePods?: boolean;
  ignoreHpa?: boolean;
  freshVolume?: boolean;
  precopy?: boolean;
  precopyPasses?: string;
  forceUnlock?: boolean;
}

export interface CleanupArgv extends KubeArgv {
  claim?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  yes?: boolean;
  output?: string;
  timeoutDelete?: string;
  forceUnlock?: boolean;
}

export interface CliOptions {
  output: OutputMode;
  yes: boolean;
  dryRun: boolean;
  kube: { context?: string; kubeconfig?: string };
  /** Take the claim's lock from another run (src/core/lock.ts). */
  forceUnlock: boolean;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const VERIFY_MODES: VerifyMode[] = ['count', 'checksum', 'none'];
const OUTPUTS: OutputMode[] = ['auto', 'tree', 'plain', 'json'];

function checkName(what: string, value: string, max: number, pattern: RegExp): void {
  if (value.length > max || !pattern.test(value)) {
    throw new UsageError(`${what} ${JSON.stringify(value)} is not a valid Kubernetes name`);
  }
}

/** kubectl taint syntax: key[=value][:Effect], or "Exists" to tolerate every taint. */
export function parseToleration(text: string): Toleration {
  if (text === 'Exists') return { operator: 'Exists' };
  const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(text);
  if (!m) {
    throw new UsageError(`--copy-toleration ${JSON.stringify(text)} is not key[=value][:Effect]`);
  }
  const [, key, value, effect] = m;
  if (effect !== undefined && !EFFECTS.includes(effect)) {
    throw new UsageError(
      `--copy-toleration ${JSON.stringify(text)}: effect must be one of ${EFFECTS.join(', ')}`,
    );
  }
  return {
    key,
    operator: value === undefined ? 'Exists' : 'Equal',
    ...(value !== undefined ? { value } : {}),
    ...(effect !== undefined ? { effect } : {}),
  };
}

/** key=value pairs, repeated or comma-separated. */
export function parseNodeSelector(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of items.flatMap((i) => i.split(',')).filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--copy-node-selector ${JSON.stringify(pair)} is not key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

function outputMode(value: string | undefined): OutputMode {
  const v = (value ?? 'auto') as OutputMode;
  if (!OUTPUTS.includes(v))
    throw new UsageError(`-o ${JSON.stringify(value)}: use one of ${OUTPUTS.join(', ')}`);
  return v;
}

function kubeArgs(a: KubeArgv): string[] {
  return connectionArgs(a);
}

/** The flags that shape the move, as given, so the printed resume command is the same command. */
function moveArgs(a: MoveArgv): string[] {
  const out: string[] = [];
  const flag = (name: string, value: string | undefined): void => {
    if (value !== undefined) out.push(`--${name}`, value);
  };
  flag('verify', a.verify === 'count' ? undefined : a.verify);
  flag('image', a.image === DEFAULT_COPY.image ? undefined : a.image);
  flag(
    'image-pull-policy',
    a.imagePullPolicy === DEFAULT_COPY.imagePullPolicy ? undefined : a.imagePullPolicy,
  );
  for (const t of a.copyToleration ?? []) flag('copy-toleration', t);
  for (const n of a.copyNodeSelector ?? []) flag('copy-node-selector', n);
  if (a.deletePods) out.push('--delete-pods');
  if (a.ignoreHpa) out.push('--ignore-hpa');
  if (a.freshVolume) out.push('--fresh-volume');
  if (a.precopyPasses !== undefined) flag('precopy-passes', a.precopyPasses);
  else if (a.precopy) out.push('--precopy');
  return [...out, ...timeoutArgs(a)];
}

function claimAndNamespace(
  a: { claim?: string; namespace?: string },
  contextNamespace: () => string,
): { claim: string; namespace: string } {
  const claim = a.claim ?? '';
  if (!claim)
    throw new UsageError(
      'name the PersistentVolumeClaim to move, e.g. `kubectl pvmove data --to-class fast`',
    );
  checkName('claim', claim, 253, DNS_SUBDOMAIN);
  if (a.namespace !== undefined) checkName('namespace', a.namespace, 63, DNS_LABEL);
  return { claim, namespace: a.namespace ?? contextNamespace() };
}

/**
 * Validates the flags and builds the request. `contextNamespace` is only called once the flags are
 * valid: it reads the kubeconfig, and a usage error should not depend on having one.
 */
export function completeMoveRequest(
  a: MoveArgv,
  contextNamespace: () => string,
): { request: MigrationRequest; cli: CliOptions } {
  if (!a.claim)
    throw new UsageError(
      'name the PersistentVolumeClaim to move, e.g. `kubectl pvmove data --to-class fast`',
    );
  const flags = completeMoveFlags(a);
  const { claim, namespace } = claimAndNamespace(a, contextNamespace);
  return {
    request: migrationRequest(a, flags, claim, namespace, { moveArgs: moveArgs(a) }),
    cli: cliOptions(a, flags.output),
  };
}

/** A move of several claims (src/cli/selection.ts): the flags checked once, a request per namespace. */
export interface BatchMoveRequest {
  selection: Selection;
  /** -n or the context's namespace; unused with -A, where every namespace is a batch of its own. */
  namespace: string;
  parallel: number;
  /** The batch of one namespace's claims (printed commands name the selection as typed). */
  batchFor(group: Selected): BatchRequest;
}

/** The flags of a batch, checked as a single move's are; `selection` comes from parseSelection. */
export function completeBatchRequest(
  a: MoveArgv,
  selection: Selection,
  contextNamespace: () => string,
): { request: BatchMoveRequest; cli: CliOptions } {
  const flags = completeMoveFlags(a);
  let parallel = BATCH_PARALLEL_DEFAULT;
  if (a.parallel !== undefined) {
    if (!/^[1-9][0-9]*$/.test(String(a.parallel)))
      throw new UsageError(
        `--parallel ${JSON.stringify(a.parallel)} is not a positive whole number of claims to copy at once, e.g. --parallel ${BATCH_PARALLEL_DEFAULT}`,
      );
    parallel = Number(a.parallel);
  }
  if (a.namespace !== undefined) checkName('namespace', a.namespace, 63, DNS_LABEL);
  const allNamespaces = selection.kind === 'query' && selection.allNamespaces;
  const namespace = allNamespaces ? '' : (a.namespace ?? contextNamespace());
  const extra = [
    ...(a.parallel !== undefined ? ['--parallel', String(a.parallel)] : []),
    ...(a.keepTemplate ? ['--keep-template'] : []),
  ];
  const target = selectionWords(selection);
  return {
    request: {
      selection,
      namespace,
      parallel,
      batchFor: (group) => ({
        base: migrationRequest(a, flags, group.claims[0] ?? '', group.namespace, {
          target,
          moveArgs: [...moveArgs(a), ...extra],
        }),
        claims: [...group.claims],
        parallel,
        rewriteTemplates: selection.kind === 'statefulset' && !a.keepTemplate,
      }),
    },
    cli: cliOptions(a, flags.output),
  };
}

interface MoveFlags {
  verify: VerifyMode;
  precopy?: PrecopyOptions;
  image: string;
  pull: string;
  output: OutputMode;
  timeouts: Timeouts;
  tolerations: Toleration[];
  nodeSelector: Record<string, string>;
}

/** Every flag of a move but the claims, in the order a single move always checked them. */
function completeMoveFlags(a: MoveArgv): MoveFlags {
  if (a.toClass === undefined && a.size === undefined) {
    throw new UsageError('say where to move: pass --to-class CLASS, --size SIZE, or both');
  }
  if (a.toClass !== undefined) checkName('--to-class', a.toClass, 253, DNS_SUBDOMAIN);
  if (a.size !== undefined) {
    const milli = parseQuantityMilli(a.size);
    if (milli === undefined || milli <= 0n)
      throw new UsageError(`--size ${JSON.stringify(a.size)} is not a size like 10Gi or 500Mi`);
  }
  const verify = (a.verify ?? 'count') as VerifyMode;
  if (!VERIFY_MODES.includes(verify))
    throw new UsageError(`--verify ${JSON.stringify(a.verify)}: use one of ${VERIFY_MODES.join(', ')}`);
  const pull = a.imagePullPolicy ?? DEFAULT_COPY.imagePullPolicy;
  if (!PULL_POLICIES.includes(pull))
    throw new UsageError(
      `--image-pull-policy ${JSON.stringify(pull)}: use one of ${PULL_POLICIES.join(', ')}`,
    );
  const image = a.image ?? DEFAULT_COPY.image;
  if (!image.trim() || /\s/.test(image))
    throw new UsageError(`--image ${JSON.stringify(image)} is not an image reference`);
  const output = outputMode(a.output);
  const timeouts: Timeouts = parseTimeouts(a, ALL_WAITS);
  const tolerations = (a.copyToleration ?? []).map(parseToleration);
  const nodeSelector = parseNodeSelector(a.copyNodeSelector ?? []);
  const precopy = precopyOptions(a);
  return {
    verify,
    image,
    pull,
    output,
    timeouts,
    tolerations,
    nodeSelector,
    ...(precopy ? { precopy } : {}),
  };
}

/** More warm passes than this gain nothing on any volume that changes at all (each is a full walk). */
const MAX_PRECOPY_PASSES = 10;

function precopyOptions(a: MoveArgv): PrecopyOptions | undefined {
  if (a.precopyPasses === undefined) return a.precopy ? { passes: 1 } : undefined;
  const passes = /^\d+$/.test(a.precopyPasses) ? Number(a.precopyPasses) : NaN;
  if (!(passes >= 1 && passes <= MAX_PRECOPY_PASSES))
    throw new UsageError(
      `--precopy-passes ${JSON.stringify(a.precopyPasses)}: use a whole number from 1 to ${MAX_PRECOPY_PASSES}`,
    );
  if (a.precopy === false) throw new UsageError('--precopy-passes asks for warm passes: drop --no-precopy');
  return { passes };
}

function migrationRequest(
  a: MoveArgv,
  f: MoveFlags,
  claim: string,
  namespace: string,
  printed: { target?: string[]; moveArgs: string[] },
): MigrationRequest {
  return {
    namespace,
    claim,
    ...(a.toClass !== undefined ? { toClass: a.toClass } : {}),
    ...(a.size !== undefined ? { size: a.size } : {}),
    deletePods: a.deletePods ?? false,
    ignoreHpa: a.ignoreHpa ?? false,
    ...(a.freshVolume ? { freshVolume: true } : {}),
    verify: f.verify,
    ...(f.precopy ? { precopy: f.precopy } : {}),
    copy: {
      image: f.image,
      imagePullPolicy: f.pull,
      tolerations: f.tolerations,
      nodeSelector: f.nodeSelector,
    },
    timeouts: f.timeouts,
    commands: commandsFor({
      claim,
      ...(printed.target ? { target: printed.target } : {}),
      namespace,
      toClass: a.toClass,
      size: a.size,
      kubeArgs: kubeArgs(a),
      moveArgs: printed.moveArgs,
    }),
  };
}

function cliOptions(a: MoveArgv, output: OutputMode): CliOptions {
  return {
    output,
    yes: a.yes ?? false,
    dryRun: a.dryRun ?? false,
    kube: { context: a.context, kubeconfig: a.kubeconfig },
    forceUnlock: a.forceUnlock ?? false,
  };
}

export function completeCleanupRequest(
  a: CleanupArgv,
  contextNamespace: () => string,
): { request: CleanupRequest; cli: CliOptions } {
  return completeJournalCommand(a, contextNamespace, () => parseTimeouts(a, ['deleteMs']));
}

export interface RollbackArgv extends CleanupArgv {
  timeoutBind?: string;
  timeoutScale?: string;
  timeoutReady?: string;
}

export function completeRollbackRequest(
  a: RollbackArgv,
  contextNamespace: () => string,
): { request: RollbackRequest; cli: CliOptions } {
  return completeJournalCommand(a, contextNamespace, (): Timeouts => ({
    ...DEFAULT_TIMEOUTS,
    ...parseTimeouts(a, ['bindMs', 'scaleMs', 'deleteMs', 'readyMs']),
  }));
}

/** cleanup and rollback: a claim with a journal, the command's timeouts, never a dry run. */
function completeJournalCommand<T>(
  a: CleanupArgv,
  contextNamespace: () => string,
  parseTimeouts: () => T,
): { request: { claim: string; namespace: string; timeouts: T; commands: Commands }; cli: CliOptions } {
  // Flags are checked in the same order as for a move: output, timeouts, then claim and namespace.
  const output = outputMode(a.output);
  const timeouts = parseTimeouts();
  const { claim, namespace } = claimAndNamespace(a, contextNamespace);
  return {
    request: {
      claim,
      namespace,
      timeouts,
      commands: commandsFor({ claim, namespace, kubeArgs: kubeArgs(a) }),
    },
    cli: {
      output,
      yes: a.yes ?? false,
      dryRun: false,
      kube: { context: a.context, kubeconfig: a.kubeconfig },
      forceUnlock: a.forceUnlock ?? false,
    },
  };
}

export interface StatusArgv extends KubeArgv {
  claim?: string;
  namespace?: string;
  allNamespaces?: boolean;
  context?: string;
  kubeconfig?: string;
  output?: string;
}

/** `status [claim]` and `list`: which journals to read. */
export function completeStatusRequest(
  a: StatusArgv,
  contextNamespace: () => string,
): { namespace?: string; claim?: string; output: OutputMode; kubeArgs: string[] } {
  const output = outputMode(a.output);
  if (a.claim !== undefined) checkName('claim', a.claim, 253, DNS_SUBDOMAIN);
  if (a.namespace !== undefined) checkName('namespace', a.namespace, 63, DNS_LABEL);
  if (a.allNamespaces && a.claim) throw new UsageError('name a claim or pass -A, not both');
  const namespace = a.allNamespaces ? undefined : (a.namespace ?? contextNamespace());
  return { namespace, claim: a.claim, output, kubeArgs: kubeArgs(a) };
}
