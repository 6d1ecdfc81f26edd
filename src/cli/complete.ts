// `kubectl-pvmove __complete WORDS... CURRENT`: cobra's completion protocol, which kubectl uses for
// plugins (`kubectl_complete-pvmove`) and our bash/zsh scripts use too. Prints one candidate a
// line, then `:DIRECTIVE` (4: no file completion, 0: the shell may complete file names).
// Flags come from the commands' own yargs builders, so completion follows the help text. Names
// from the cluster (claims, namespaces, classes, contexts) come from kubectl, which is there
// whenever the plugin runs, and keeps @kubernetes/client-node out of every key press.
import { execFile } from 'node:child_process';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { SHELLS } from './commands/completion.js';
import { COMMANDS } from './commands/index.js';

export const DIRECTIVE_NO_FILES = 4;
export const DIRECTIVE_DEFAULT = 0;

/** Names from the kubeconfig (contexts, clusters, users) or the cluster (the rest). */
type NameKind = 'pvc' | 'statefulset' | 'namespace' | 'storageclass' | 'context' | 'cluster' | 'user';

/** Reads names from the cluster; `kubectl` is the connection flags typed so far, to pass on. */
export interface Lookup {
  names(kind: NameKind, kubectl: string[]): Promise<string[]>;
}

export interface Completion {
  candidates: string[];
  directive: number;
}

// Flag values that the help text lists in prose rather than as yargs choices.
const VALUES: Record<string, readonly string[]> = {
  output: ['auto', 'tree', 'plain', 'json'],
  verify: ['count', 'checksum', 'none'],
  'image-pull-policy': ['IfNotPresent', 'Always', 'Never'],
};
const FROM_CLUSTER: Record<string, Exclude<NameKind, 'pvc' | 'statefulset'>> = {
  namespace: 'namespace',
  'to-class': 'storageclass',
  'from-class': 'storageclass',
  context: 'context',
  cluster: 'cluster',
  user: 'user',
};
const FILE_FLAGS = new Set(['kubeconfig', 'certificate-authority', 'client-certificate', 'client-key']);

interface CommandSpec {
  name: string | undefined; // undefined: the default command (move)
  positionals: string[];
  /** The last positional takes any number of words (`[claims..]`). */
  variadic: boolean;
  long: string[]; // canonical option names
  short: Map<string, string>; // alias -> canonical
  takesValue: Set<string>;
  choices: Record<string, string[]>;
}

type AnyCommand = CommandModule<object, never>;

export async function complete(words: string[], lookup: Lookup): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const specs = COMMANDS.map(specOf);
  const named = specs.filter((s) => s.name);
  const main = specs.find((s) => !s.name)!;

  // Which command, and the positionals typed so far (values of flags are not positionals).
  const positionals: string[] = [];
  let spec = main;
  let pendingFlag: string | undefined;
  for (const w of before) {
    if (pendingFlag) {
      pendingFlag = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const flag = canonical(spec, w);
      if (flag && !w.includes('=') && spec.takesValue.has(flag)) pendingFlag = flag;
      continue;
    }
    const sub = positionals.length === 0 ? named.find((s) => s.name === w) : undefined;
    if (sub) spec = sub;
    else positionals.push(w);
  }

  const kubectl = kubectlFlags(before);
  const values = async (flag: string, prefix: string): Promise<Completion> => {
    if (FILE_FLAGS.has(flag)) return { candidates: [], directive: DIRECTIVE_DEFAULT };
    const fixed = spec.choices[flag] ?? VALUES[flag];
    const kind = FROM_CLUSTER[flag];
    const all = fixed ? [...fixed] : kind ? await lookup.names(kind, kubectl) : [];
    return { candidates: all.map((v) => prefix + v), directive: DIRECTIVE_NO_FILES };
  };

  let result: Completion;
  const eq = current.indexOf('=');
  if (pendingFlag) {
    result = await values(pendingFlag, '');
  } else if (current.startsWith('--') && eq > 0) {
    const flag = canonical(spec, current.slice(0, eq));
    result = flag ? await values(flag, current.slice(0, eq + 1)) : none();
  } else if (current.startsWith('-')) {
    const flags = [...spec.long.map((f) => `--${f}`), ...[...spec.short.keys()].map((a) => `-${a}`)];
    result = { candidates: flags, directive: DIRECTIVE_NO_FILES };
  } else {
    const slot =
      spec.positionals[positionals.length] ?? (spec.variadic ? spec.positionals.at(-1) : undefined);
    const owner = /^(statefulsets?|sts)(\.apps)?\//.exec(current);
    if (slot === 'shell') result = { candidates: [...SHELLS], directive: DIRECTIVE_NO_FILES };
    else if ((slot === 'claim' || slot === 'claims') && owner && positionals.length === 0) {
      // statefulset/NAME: the StatefulSets of the namespace, only once the kind is typed.
      const sets = await lookup.names('statefulset', kubectl);
      result = { candidates: sets.map((n) => owner[0] + n), directive: DIRECTIVE_NO_FILES };
    } else if (slot === 'claim' || slot === 'claims') {
      const claims = await lookup.names('pvc', kubectl);
      const subs = spec === main && positionals.length === 0 ? named.map((s) => s.name!) : [];
      result = { candidates: [...subs, ...claims], directive: DIRECTIVE_NO_FILES };
    } else result = none();
  }
  return { ...result, candidates: result.candidates.filter((c) => c.startsWith(current)) };
}

/** Prints a completion in cobra's format. */
export async function runComplete(words: string[], out: NodeJS.WritableStream): Promise<void> {
  const { candidates, directive } = await complete(words, kubectlLookup);
  out.write(candidates.map((c) => `${c}\n`).join('') + `:${directive}\n`);
}

function none(): Completion {
  return { candidates: [], directive: DIRECTIVE_NO_FILES };
}

function specOf(cmd: AnyCommand): CommandSpec {
  const y = yargs([]);
  if (typeof cmd.builder === 'function') (cmd.builder as (y: Argv) => unknown)(y);
  const o = (y as unknown as { getOptions(): YargsOptions }).getOptions();
  const words = String(cmd.command).split(/\s+/);
  const positionals = words.filter((w) => /^[[<]/.test(w)).map((w) => w.replace(/[[\]<>.]/g, ''));
  const aliases = new Set(Object.values(o.alias).flat());
  const long = Object.keys(o.key).filter((k) => !aliases.has(k) && !positionals.includes(k));
  const short = new Map<string, string>();
  for (const [k, as] of Object.entries(o.alias)) for (const a of as) short.set(a, k);
  const takesValue = new Set(long.filter((k) => !o.boolean.includes(k)));
  return {
    name: words[0] === '$0' ? undefined : words[0],
    positionals,
    variadic: /\.\.[\]>]$/.test(words.at(-1) ?? ''),
    long,
    short,
    takesValue,
    choices: o.choices,
  };
}

interface YargsOptions {
  key: Record<string, boolean>;
  alias: Record<string, string[]>;
  boolean: string[];
  choices: Record<string, string[]>;
}

function canonical(spec: CommandSpec, word: string): string | undefined {
  const name = word.replace(/^--?/, '').replace(/=.*$/, '');
  return spec.long.includes(name) ? name : spec.short.get(name);
}

// kubectl's connection flags as typed (the plugin takes the same ones), passed on to kubectl so
// names come from the same cluster as the same identity.
const PASSED_ON =
  /^(--namespace|-n|--context|--kubeconfig|--cluster|--user|--server|-s|--tls-server-name|--certificate-authority|--client-certificate|--client-key|--token|--as|--as-group|--as-uid)(?:=(.*))?$/;
const SHORT: Record<string, string> = { '-n': '--namespace', '-s': '--server' };

function kubectlFlags(words: string[]): string[] {
  const out: string[] = [];
  words.forEach((w, i) => {
    if (/^--insecure-skip-tls-verify(=(true|false))?$/.test(w)) out.push(w);
    const m = PASSED_ON.exec(w);
    if (!m) return;
    const value = m[2] ?? words[i + 1];
    if (value !== undefined) out.push(`${SHORT[m[1]!] ?? m[1]}=${value}`);
  });
  return out;
}

const KUBECONFIG_ONLY = /^--(kubeconfig|context)=/;

const kubectlLookup: Lookup = {
  names(kind, flags) {
    // Contexts, clusters and users come from the kubeconfig (get-clusters/get-users print a header).
    const fromConfig = {
      context: ['get-contexts', '-o', 'name'],
      cluster: ['get-clusters'],
      user: ['get-users'],
    };
    const args =
      kind === 'context' || kind === 'cluster' || kind === 'user'
        ? ['config', ...fromConfig[kind], ...flags.filter((f) => KUBECONFIG_ONLY.test(f))]
        : ['get', kind, ...flags, '-o', 'jsonpath={.items[*].metadata.name}', '--request-timeout=5s'];
    return new Promise((resolve) => {
      execFile('kubectl', args, { timeout: 6000, encoding: 'utf8' }, (err, stdout) => {
        const lines = err ? [] : stdout.split(/\s+/).filter(Boolean);
        resolve(kind === 'cluster' || kind === 'user' ? lines.slice(1) : lines);
      });
    });
  },
};
