// Which kubeconfig files kubectl reads and how it merges them (kubectl's loading rules, described in
// docs/kubeconfig.md): --kubeconfig alone, else every file KUBECONFIG lists, else ~/.kube/config.
// Files in the list that do not exist are skipped; the first file to set current-context wins; a
// cluster, user or context name is taken whole from the first file that defines it; relative paths
// in an entry resolve against the directory of the file that holds it.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/** An entry's fields as written in the file (v1 names: "certificate-authority", "tokenFile"...). */
export type Fields = Record<string, unknown>;

export interface Entry {
  fields: Fields;
  /** The file that defined it (the first one, when several do). */
  file: string;
}

export interface MergedKubeconfig {
  currentContext: string;
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  /** The files read, in precedence order. */
  files: string[];
  /** Listed files that do not exist (skipped, as kubectl does). */
  missing: string[];
}

/** A kubeconfig kubectl would refuse too; the message names the file. */
export class KubeconfigError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export interface FileList {
  files: string[];
  /** From --kubeconfig: that file must exist. */
  explicit: boolean;
  /** Where the list came from, for messages. */
  source: string;
}

/** The user's home as kubectl finds it (on Windows: the first candidate holding .kube/config). */
export function homeDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return env.HOME || homedir();
  const drivePath = env.HOMEDRIVE && env.HOMEPATH ? `${env.HOMEDRIVE}${env.HOMEPATH}` : '';
  const candidates = [env.HOME, drivePath, env.USERPROFILE].filter((d): d is string => !!d);
  return (
    candidates.find((d) => existsSync(path.join(d, '.kube', 'config'))) ??
    env.HOME ??
    env.USERPROFILE ??
    (drivePath || homedir())
  );
}

export function kubeconfigFiles(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): FileList {
  if (explicit) return { files: [explicit], explicit: true, source: `--kubeconfig ${explicit}` };
  const list = env.KUBECONFIG ?? '';
  if (list !== '') {
    const delimiter = platform === 'win32' ? ';' : ':';
    const files = [...new Set(list.split(delimiter))].filter((f) => f !== '');
    return { files, explicit: false, source: `KUBECONFIG=${list}` };
  }
  const home = path.join(homeDir(env, platform), '.kube', 'config');
  return { files: [home], explicit: false, source: home };
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

// The fields that hold paths, per kind of entry (kubectl resolves exactly these).
const PATH_FIELDS = {
  clusters: ['certificate-authority'],
  users: ['client-certificate', 'client-key', 'tokenFile'],
  contexts: [],
} as const;

function resolvePaths(kind: keyof typeof PATH_FIELDS, fields: Fields, dir: string, sep: string): Fields {
  const out: Fields = { ...fields };
  for (const key of PATH_FIELDS[kind]) {
    const v = out[key];
    if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) out[key] = path.join(dir, v);
  }
  // An exec plugin named with a path (not looked up on PATH) is relative to the file too.
  const exec = out.exec as Fields | undefined;
  if (kind === 'users' && exec && typeof exec.command === 'string' && exec.command.includes(sep)) {
    if (!path.isAbsolute(exec.command)) out.exec = { ...exec, command: path.join(dir, exec.command) };
  }
  return out;
}

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One file's contents, or undefined if it does not exist. */
function readOne(file: string, read: (f: string) => string): Fields | undefined {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KubeconfigError(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    // kubectl reads YAML 1.1 (yes/no are booleans).
    doc = parse(text, { version: '1.1' });
  } catch (err) {
    throw new KubeconfigError(
      `kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new KubeconfigError(`kubeconfig ${file} is not a kubeconfig (a YAML mapping)`);
  return doc;
}

export function loadKubeconfigFiles(
  list: FileList,
  opts: { read?: (f: string) => string; cwd?: string; sep?: string } = {},
): MergedKubeconfig {
  const read = opts.read ?? ((f: string) => readFileSync(f, 'utf8'));
  const cwd = opts.cwd ?? process.cwd();
  const sep = opts.sep ?? path.sep;
  const merged: MergedKubeconfig = {
    currentContext: '',
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    files: [],
    missing: [],
  };
  for (const file of list.files) {
    const doc = readOne(file, read);
    if (doc === undefined) {
      if (list.explicit) throw new KubeconfigError(`kubeconfig ${file} does not exist`);
      merged.missing.push(file);
      continue;
    }
    merged.files.push(file);
    const dir = path.resolve(cwd, path.dirname(file));
    for (const [kind, field] of LISTS) {
      const items = doc[kind] ?? [];
      if (!Array.isArray(items)) throw new KubeconfigError(`kubeconfig ${file}: ${kind} is not a list`);
      const seen = new Set<string>();
      for (const item of items) {
        if (!isObject(item)) continue;
        const name = typeof item.name === 'string' ? item.name : String(item.name ?? '');
        // kubectl refuses a file that defines a name twice.
        if (seen.has(name)) throw new KubeconfigError(`kubeconfig ${file} defines ${field} "${name}" twice`);
        seen.add(name);
        if (merged[kind].has(name)) continue; // the first file's entry wins, whole
        const fields = isObject(item[field]) ? item[field] : {};
        merged[kind].set(name, { fields: resolvePaths(kind, fields, dir, sep), file });
      }
    }
    const current = doc['current-context'];
    if (!merged.currentContext && typeof current === 'string') merged.currentContext = current;
  }
  return merged;
}
