// The context, cluster, user and namespace kubectl would use, from the merged kubeconfig and
// kubectl's connection flags, with kubectl's precedence (docs/kubeconfig.md): --context over
// current-context; --cluster/--user over the context's; each flag over the matching kubeconfig
// field; -n over the context's namespace, else "default". Pure: no file is read here.
import path from 'node:path';
import { KubeconfigError, type Entry, type Fields, type MergedKubeconfig } from './kubeconfig-files.js';

/** kubectl's connection flags, as given (undefined: not given). */
export interface KubeOverrides {
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  tlsServerName?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  token?: string;
  clientCertificate?: string;
  clientKey?: string;
  as?: string;
  asGroups?: string[];
  asUid?: string;
  requestTimeout?: string;
}

export interface Impersonation {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface ResolvedCluster {
  server: string;
  tlsServerName?: string;
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify: boolean;
  proxyUrl?: string;
}

export interface ResolvedUser {
  token?: string;
  tokenFile?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  username?: string;
  password?: string;
  authProvider?: Fields;
  exec?: Fields;
}

export interface ResolvedKubeconfig {
  /** Empty when neither --context nor current-context names one (possible with --server). */
  context: string;
  clusterName: string;
  userName: string;
  namespace: string;
  cluster: ResolvedCluster;
  user: ResolvedUser;
  impersonate?: Impersonation;
  /** --request-timeout; undefined: no limit (kubectl's default "0"). */
  requestTimeoutMs?: number;
}

function text(f: Fields, key: string, what: string): string | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(`${what}: ${key} must be a string`);
  return v;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function names(m: Map<string, unknown>): string {
  return [...m.keys()].join(', ') || 'none';
}

/**
 * The cluster or user the flag names, else the one the context names (read only without the
 * flag). A flag naming none of the kubeconfig's is refused here; a context naming none gives no entry.
 */
function entryNamed(
  kind: 'cluster' | 'user',
  entries: Map<string, Entry>,
  flag: string | undefined,
  ctx: Fields,
  ctxWhat: string,
): [name: string, entry: Entry | undefined] {
  const name = flag || text(ctx, kind, ctxWhat) || '';
  const entry = entries.get(name);
  if (flag && !entry) {
    throw new KubeconfigError(
      `${kind} "${flag}" is not in the kubeconfig (${kind}s: ${names(entries)})`,
      `Pass one of them with --${kind}.`,
    );
  }
  return [name, entry];
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** kubectl's --request-timeout: a whole number of seconds, or a Go duration ("1m30s", "500ms"). */
export function parseRequestTimeout(value: string): number | undefined {
  if (/^\d+$/.test(value)) {
    const s = Number(value);
    return s === 0 ? undefined : s * 1000;
  }
  const parts = [...value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new KubeconfigError(
      `--request-timeout ${JSON.stringify(value)} is not a duration like 30s, 2m or a number of seconds`,
    );
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
  return ms === 0 ? undefined : Math.max(1, Math.round(ms));
}

export function resolveKubeconfig(
  merged: MergedKubeconfig,
  o: KubeOverrides,
  cwd: string = process.cwd(),
): ResolvedKubeconfig {
  const abs = (p: string | undefined) => (p ? path.resolve(cwd, p) : undefined);

  const context = o.context || merged.currentContext;
  const ctxEntry = context ? merged.contexts.get(context) : undefined;
  if (context && !ctxEntry) {
    throw o.context
      ? new KubeconfigError(
          `context "${context}" is not in the kubeconfig (contexts: ${names(merged.contexts)})`,
          'Pass one of them with --context.',
        )
      : new KubeconfigError(
          `the kubeconfig's current-context "${context}" is not one of its contexts (${names(merged.contexts)})`,
          'Pass --context NAME, or set it with `kubectl config use-context NAME`.',
        );
  }
  const ctx = ctxEntry?.fields ?? {};
  const ctxWhat = `context "${context}"`;

  const [clusterName, clusterEntry] = entryNamed('cluster', merged.clusters, o.cluster, ctx, ctxWhat);
  const [userName, userEntry] = entryNamed('user', merged.users, o.user, ctx, ctxWhat);
  const namespace = o.namespace || text(ctx, 'namespace', ctxWhat) || 'default';

  // The cluster: the kubeconfig's fields, then the flags that are set.
  const c = clusterEntry?.fields ?? {};
  const cWhat = `cluster "${clusterName}"`;
  const cluster: ResolvedCluster = {
    server: o.server || text(c, 'server', cWhat) || '',
    tlsServerName: text(c, 'tls-server-name', cWhat),
    certificateAuthority: text(c, 'certificate-authority', cWhat),
    certificateAuthorityData: text(c, 'certificate-authority-data', cWhat),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
    proxyUrl: text(c, 'proxy-url', cWhat),
  };
  // A CA or --insecure-skip-tls-verify on the command line replaces the kubeconfig's TLS checks
  // whole; --server also drops the kubeconfig's tls-server-name (kubectl's rules).
  if (o.insecureSkipTlsVerify || o.certificateAuthority) {
    cluster.insecureSkipTlsVerify = o.insecureSkipTlsVerify === true;
    cluster.certificateAuthority = abs(o.certificateAuthority);
    cluster.certificateAuthorityData = undefined;
  }
  if (o.tlsServerName || o.server) cluster.tlsServerName = o.tlsServerName || undefined;
  if (!cluster.server) throw noServer(merged, context, clusterName, !!clusterEntry);
  if (cluster.certificateAuthority && cluster.certificateAuthorityData) {
    throw new KubeconfigError(
      `${cWhat} sets both certificate-authority and certificate-authority-data; kubectl refuses that too`,
    );
  }

  // The user: the kubeconfig's fields, then the flags that are set.
  const u = userEntry?.fields ?? {};
  const uWhat = `user "${userName}"`;
  const user: ResolvedUser = {
    token: o.token || text(u, 'token', uWhat),
    tokenFile: text(u, 'tokenFile', uWhat),
    clientCertificate: text(u, 'client-certificate', uWhat),
    clientCertificateData: text(u, 'client-certificate-data', uWhat),
    clientKey: text(u, 'client-key', uWhat),
    clientKeyData: text(u, 'client-key-data', uWhat),
    username: text(u, 'username', uWhat),
    password: text(u, 'password', uWhat),
    ...(typeof u['auth-provider'] === 'object' && u['auth-provider']
      ? { authProvider: u['auth-provider'] as Fields }
      : {}),
    ...(typeof u.exec === 'object' && u.exec ? { exec: u.exec as Fields } : {}),
  };
  if (o.clientCertificate) {
    user.clientCertificate = abs(o.clientCertificate);
    user.clientCertificateData = undefined;
  }
  if (o.clientKey) {
    user.clientKey = abs(o.clientKey);
    user.clientKeyData = undefined;
  }
  checkUser(uWhat, user);

  const impersonate = impersonation(u, o, uWhat);
  const requestTimeoutMs = o.requestTimeout !== undefined ? parseRequestTimeout(o.requestTimeout) : undefined;
  return {
    context,
    clusterName,
    userName,
    namespace,
    cluster,
    user,
    ...(impersonate ? { impersonate } : {}),
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
  };
}

function noServer(merged: MergedKubeconfig, context: string, clusterName: string, found: boolean) {
  const hint = 'Pass --context NAME, --kubeconfig FILE or --server URL.';
  if (merged.files.length === 0) {
    const missing = merged.missing.length > 0 ? ` (${merged.missing.join(', ')} do not exist)` : '';
    return new KubeconfigError(`no kubeconfig file found${missing}`, hint);
  }
  if (!context) {
    return new KubeconfigError(
      `the kubeconfig sets no current-context (contexts: ${names(merged.contexts)})`,
      'Pass --context NAME, or set one with `kubectl config use-context NAME`.',
    );
  }
  if (!clusterName) return new KubeconfigError(`context "${context}" names no cluster`, hint);
  if (!found) {
    return new KubeconfigError(
      `context "${context}" names cluster "${clusterName}", which is not in the kubeconfig (clusters: ${names(merged.clusters)})`,
      hint,
    );
  }
  return new KubeconfigError(`cluster "${clusterName}" has no server`, 'Pass --server URL.');
}

// The conflicts kubectl refuses before sending anything.
function checkUser(what: string, u: ResolvedUser): void {
  const fail = (m: string) => {
    throw new KubeconfigError(`${what}: ${m}; kubectl refuses that too`);
  };
  if (u.token && (u.username || u.password)) fail('both a token and a username/password are set');
  if (u.clientCertificate || u.clientCertificateData) {
    if (u.clientCertificate && u.clientCertificateData)
      fail('both client-certificate and client-certificate-data are set');
    if (u.clientKey && u.clientKeyData) fail('both client-key and client-key-data are set');
    if (!u.clientKey && !u.clientKeyData) fail('a client certificate is set without a client key');
  }
  if (u.exec && u.authProvider) fail('both an exec plugin and an auth-provider are set');
}

function impersonation(u: Fields, o: KubeOverrides, what: string): Impersonation | undefined {
  const user = o.as || text(u, 'as', what);
  const uid = o.asUid || text(u, 'as-uid', what);
  const groups = o.asGroups && o.asGroups.length > 0 ? o.asGroups : stringList(u['as-groups']);
  const extra: Record<string, string[]> = {};
  const fromFile = u['as-user-extra'];
  if (typeof fromFile === 'object' && fromFile !== null) {
    for (const [k, v] of Object.entries(fromFile)) extra[k] = stringList(v);
  }
  if (!user) {
    if (uid || groups.length > 0 || Object.keys(extra).length > 0) {
      throw new KubeconfigError(
        `${o.asUid || o.asGroups?.length ? '--as-uid/--as-group' : `${what}: as-uid, as-groups or as-user-extra`} impersonate no user`,
        'Add --as USER.',
      );
    }
    return undefined;
  }
  return { user, ...(uid ? { uid } : {}), groups, extra };
}
