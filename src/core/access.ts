// The permissions a move needs, checked with SelfSubjectAccessReviews before anything changes, so a
// missing one is reported all at once (exit 2) instead of as a 403 halfway through. The same list
// is what deploy/rbac/clusterrole.yaml grants; a unit test keeps the two in step.
import type { AccessCheck } from './cluster.js';
import type { OwnerId, OwnerKind } from './types.js';

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
    ...lockPermissions(namespace),
  ];
}

/** The claim's lock (src/core/claim-lock.ts), taken by move, resume, rollback and cleanup. */
export function lockPermissions(namespace: string): AccessCheck[] {
  return ns(namespace, 'coordination.k8s.io', 'leases', ['get', 'create', 'update', 'delete']);
}

/**
 * Each owner kind's API group and resource, and how it is stopped: through the scale subresource
 * (replicas to 0) or by patching the object itself (Jobs and CronJobs are suspended). `patch`: the
 * object itself is patched too (a StatefulSet's claim retention policy, whenScaled: Delete).
 */
const OWNER_API: Record<
  OwnerKind,
  { group: string; resource: string; stop: 'scale' | 'patch'; patch?: true }
> = {
  Deployment: { group: 'apps', resource: 'deployments', stop: 'scale' },
  StatefulSet: { group: 'apps', resource: 'statefulsets', stop: 'scale', patch: true },
  ReplicaSet: { group: 'apps', resource: 'replicasets', stop: 'scale' },
  ReplicationController: { group: '', resource: 'replicationcontrollers', stop: 'scale' },
  Job: { group: 'batch', resource: 'jobs', stop: 'patch' },
  CronJob: { group: 'batch', resource: 'cronjobs', stop: 'patch' },
};

/** What stopping and restarting these owners needs. */
export function ownerPermissions(namespace: string, owners: OwnerId[]): AccessCheck[] {
  return dedupe(
    owners.flatMap((o) => {
      const { group, resource, stop, patch } = OWNER_API[o.kind];
      return stop === 'scale'
        ? [
            ...ns(namespace, group, resource, patch ? ['get', 'patch'] : ['get']),
            ...ns(namespace, group, resource, ['patch'], 'scale'),
          ]
        : ns(namespace, group, resource, ['get', 'patch']);
    }),
  );
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
