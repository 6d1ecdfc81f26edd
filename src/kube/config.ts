// The user's own kubeconfig, read exactly as kubectl reads it (docs/kubeconfig.md): the files and
// how they merge (kubeconfig-files.ts), kubectl's connection flags over them
// (kubeconfig-resolve.ts), then one resolved context handed to @kubernetes/client-node
// (kubeconfig-client.ts), which does the authentication (exec, OIDC, token, certificates).
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../core/errors.js';
import { clientConfigFor } from './kubeconfig-client.js';
import {
  KubeconfigError,
  kubeconfigFiles,
  loadKubeconfigFiles,
  type MergedKubeconfig,
} from './kubeconfig-files.js';
import { resolveKubeconfig, type KubeOverrides, type ResolvedKubeconfig } from './kubeconfig-resolve.js';

export interface KubeTarget extends KubeOverrides {
  kubeconfig?: string;
  /** Where KUBECONFIG, HOME and the in-cluster variables are read (the CLI's environment). */
  env?: NodeJS.ProcessEnv;
}

/** What a command acts on, named as the kubeconfig names it; shown before anything happens. */
export interface TargetSummary {
  context: string;
  cluster: string;
  server: string;
  user: string;
  namespace: string;
  /** Impersonated identity (--as, or the kubeconfig user's `as`). */
  as?: string;
  asGroups?: string[];
  asUid?: string;
}

export interface LoadedConfig {
  kc: KubeConfig;
  context: string;
  /** -n, else the context's namespace, else "default": what kubectl would use. */
  namespace: string;
  target: TargetSummary;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Inside a pod with no kubeconfig, kubectl uses the pod's ServiceAccount; so does the plugin. */
function inCluster(env: NodeJS.ProcessEnv): MergedKubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(`${SERVICE_ACCOUNT}/token`)) return undefined;
  const nsFile = `${SERVICE_ACCOUNT}/namespace`;
  const namespace = env.POD_NAMESPACE || (existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : '');
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const entry = (fields: Record<string, unknown>) => ({ fields, file: SERVICE_ACCOUNT });
  return {
    currentContext: 'in-cluster',
    clusters: new Map([
      ['in-cluster', entry({ server, 'certificate-authority': `${SERVICE_ACCOUNT}/ca.crt` })],
    ]),
    users: new Map([['in-cluster', entry({ tokenFile: `${SERVICE_ACCOUNT}/token` })]]),
    contexts: new Map([['in-cluster', entry({ cluster: 'in-cluster', user: 'in-cluster', namespace })]]),
    files: [],
    missing: [],
  };
}

const isEmpty = (m: MergedKubeconfig) =>
  !m.currentContext && m.clusters.size === 0 && m.users.size === 0 && m.contexts.size === 0;

// kubectl checks these files before sending anything; so a typo is named here, not as a TLS error.
function checkFiles(r: ResolvedKubeconfig): void {
  const files: Array<[string | undefined, string]> = [
    [r.cluster.certificateAuthority, `certificate-authority of cluster "${r.clusterName}"`],
    [r.user.clientCertificate, `client-certificate of user "${r.userName}"`],
    [r.user.clientKey, `client-key of user "${r.userName}"`],
    [r.user.token ? undefined : r.user.tokenFile, `tokenFile of user "${r.userName}"`],
  ];
  for (const [file, what] of files) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new UsageError(
        `cannot read ${file}, the ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        'Fix the path in the kubeconfig or the flag.',
      );
    }
  }
}

export function resolveTarget(t: KubeTarget): ResolvedKubeconfig {
  const env = t.env ?? process.env;
  try {
    let merged = loadKubeconfigFiles(kubeconfigFiles(t.kubeconfig, env));
    if (!t.kubeconfig && !t.server && isEmpty(merged)) merged = inCluster(env) ?? merged;
    return resolveKubeconfig(merged, t);
  } catch (err) {
    if (err instanceof KubeconfigError) {
      throw new UsageError(err.message, err.hint ?? 'Fix the kubeconfig, or pass --kubeconfig FILE.');
    }
    throw err;
  }
}

export function summarize(r: ResolvedKubeconfig): TargetSummary {
  const i = r.impersonate;
  return {
    context: r.context,
    cluster: r.clusterName,
    server: r.cluster.server,
    user: r.userName,
    namespace: r.namespace,
    ...(i ? { as: i.user } : {}),
    ...(i && i.groups.length > 0 ? { asGroups: i.groups } : {}),
    ...(i?.uid ? { asUid: i.uid } : {}),
  };
}

export function loadKubeConfig(t: KubeTarget): LoadedConfig {
  const resolved = resolveTarget(t);
  checkFiles(resolved);
  return {
    kc: clientConfigFor(resolved),
    context: resolved.context,
    namespace: resolved.namespace,
    target: summarize(resolved),
  };
}
