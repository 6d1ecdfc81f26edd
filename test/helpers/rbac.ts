// ServiceAccounts with exactly the rights of deploy/rbac/clusterrole.yaml (or a variant of it), for
// the e2e tests that run the plugin with least privilege: with a token kubeconfig, or with --as.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Cluster } from './cluster.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The rules of the ClusterRole the project ships. */
export function shippedClusterRoleRules(): k8s.V1PolicyRule[] {
  const role = parse(readFileSync(path.join(root, 'deploy/rbac/clusterrole.yaml'), 'utf8')) as {
    rules: k8s.V1PolicyRule[];
  };
  return role.rules;
}

/** ServiceAccount `name` in `ns`, bound to a ClusterRole `name` with `rules`. */
export async function bindServiceAccount(
  c: Cluster,
  ns: string,
  name: string,
  rules: k8s.V1PolicyRule[],
): Promise<void> {
  const rbac = c.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await c.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
    },
  });
}

/** Removes the cluster-wide objects bindServiceAccount created (the accounts go with the namespace). */
export async function deleteClusterRbac(c: Cluster, names: string[]): Promise<void> {
  const rbac = c.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  for (const name of names) {
    await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    await rbac.deleteClusterRole({ name }).catch(() => undefined);
  }
}

/** A kubeconfig file that authenticates as ServiceAccount `name` (a TokenRequest token). */
export async function serviceAccountKubeconfig(c: Cluster, ns: string, name: string): Promise<string> {
  const token = await c.core.createNamespacedServiceAccountToken({
    name,
    namespace: ns,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = c.kc.getCurrentCluster()!;
  const ca = cluster.caData ?? readFileSync(cluster.caFile!).toString('base64');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pvmove-sa-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'testbed', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
      users: [{ name, user: { token: token.status!.token } }],
      contexts: [{ name, context: { cluster: 'testbed', user: name, namespace: ns } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return file;
}
