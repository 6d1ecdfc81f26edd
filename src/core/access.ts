// The permissions a move needs, checked with SelfSubjectAccessReviews before anything changes, so a
// missing one is reported all at once (exit 2) instead of as a 403 halfway through. The same list
// is what deploy/rbac/clusterrole.yaml grants; a unit test keeps the two in step.
import type { AccessCheck } from './cluster.js';
import type { OwnerId } from './types.js';

const ns = (namespace: string, group: string, resource: string, verbs: string[], subresource?: string) =>
  verbs.map((verb): AccessCheck => ({
    verb,
    group,
    resource,
    namespace,
    ...(subresource ? { subresource } : {}),
  }));
const cluster = (group: string, resource: string, verbs: string[]) =>
  verbs.map((verb): AccessCheck => ({ verb, group, resource }));

/** What every move needs, whoever uses the claim. */
export function basePermissions(namespace: string): AccessCheck[] {
  return [
    ...ns(namespace, '', 'configmaps', ['get', 'create', 'patch']),
    ...ns(namespace, '', 'persistentvolumeclaims', ['get', 'create', 'delete']),
    ...ns(namespace, '', 'pods', ['get', 'list', 'create', 'delete']),
    ...ns(namespace, '', 'pods', ['get'], 'log'),
    ...ns(namespace, '', 'events', ['list']),
    ...cluster('', 'persistentvolumes', ['get', 'patch']),
    ...cluster('storage.k8s.io', 'storageclasses', ['get']),
    ...ns(namespace, 'apps', 'replicasets', ['list']),
    ...ns(namespace, 'apps', 'deployments', ['list']),
    ...ns(namespace, 'apps', 'statefulsets', ['list']),
    ...ns(namespace, 'batch', 'jobs', ['list']),
    ...ns(namespace, 'batch', 'cronjobs', ['list']),
    ...ns(namespace, 'autoscaling', 'horizontalpodautoscalers', ['list']),
  ];
}

/** What stopping and restarting these owners needs. */
export function ownerPermissions(namespace: string, owners: OwnerId[]): AccessCheck[] {
  const out: AccessCheck[] = [];
  for (const o of owners) {
    switch (o.kind) {
      case 'Deployment':
        out.push(...ns(namespace, 'apps', 'deployments', ['get']));
        out.push(...ns(namespace, 'apps', 'deployments', ['patch'], 'scale'));
        break;
      case 'StatefulSet':
        out.push(...ns(namespace, 'apps', 'statefulsets', ['get']));
        out.push(...ns(namespace, 'apps', 'statefulsets', ['patch'], 'scale'));
        break;
      case 'ReplicaSet':
        out.push(...ns(namespace, 'apps', 'replicasets', ['get']));
        out.push(...ns(namespace, 'apps', 'replicasets', ['patch'], 'scale'));
        break;
      case 'ReplicationController':
        out.push(...ns(namespace, '', 'replicationcontrollers', ['get']));
        out.push(...ns(namespace, '', 'replicationcontrollers', ['patch'], 'scale'));
        break;
      case 'Job':
        out.push(...ns(namespace, 'batch', 'jobs', ['get', 'patch']));
        break;
      case 'CronJob':
        out.push(...ns(namespace, 'batch', 'cronjobs', ['get', 'patch']));
        break;
    }
  }
  return dedupe(out);
}

export function dedupe(checks: AccessCheck[]): AccessCheck[] {
  const seen = new Set<string>();
  return checks.filter((c) => {
    const k = describeAccess(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** "patch persistentvolumes", "patch deployments/scale in shop", "get storageclasses.storage.k8s.io". */
export function describeAccess(c: AccessCheck): string {
  const res = `${c.resource}${c.group ? `.${c.group}` : ''}${c.subresource ? `/${c.subresource}` : ''}`;
  return `${c.verb} ${res}${c.namespace ? ` in ${c.namespace}` : ''}`;
}

export function missingPermissionsProblem(missing: AccessCheck[]): string {
  return (
    `missing permissions: ${missing.map(describeAccess).join(', ')}; ` +
    'ask a cluster admin to bind the ClusterRole in deploy/rbac/clusterrole.yaml to you'
  );
}
