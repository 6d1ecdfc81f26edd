import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { basePermissions, describeAccess, ownerPermissions } from '../../src/core/access.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const role = parse(
  readFileSync(path.resolve(import.meta.dirname, '../../deploy/rbac/clusterrole.yaml'), 'utf8'),
) as { rules: Rule[] };

function granted(group: string, resource: string, verb: string): boolean {
  return role.rules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );
}

describe('deploy/rbac/clusterrole.yaml', () => {
  it('grants every permission the preflight checks for, for every owner kind', () => {
    const kinds = [
      'Deployment',
      'StatefulSet',
      'ReplicaSet',
      'ReplicationController',
      'Job',
      'CronJob',
    ] as const;
    const checks = [
      ...basePermissions('shop'),
      ...ownerPermissions(
        'shop',
        kinds.map((kind) => ({ kind, name: 'x' })),
      ),
    ];
    const missing = checks.filter(
      (c) => !granted(c.group, c.subresource ? `${c.resource}/${c.subresource}` : c.resource, c.verb),
    );
    expect(missing.map(describeAccess)).to.deep.equal([]);
  });

  it('asks to scale what has replicas, to patch what is suspended and a StatefulSet, once per kind', () => {
    const owners = [
      { kind: 'StatefulSet', name: 'db' },
      { kind: 'CronJob', name: 'backup' },
      { kind: 'StatefulSet', name: 'cache' },
    ] as const;
    expect(ownerPermissions('shop', [...owners]).map(describeAccess)).to.deep.equal([
      'get statefulsets.apps in shop',
      'patch statefulsets.apps in shop',
      'patch statefulsets.apps/scale in shop',
      'get cronjobs.batch in shop',
      'patch cronjobs.batch in shop',
    ]);
  });

  it('names a missing permission the way the refusal prints it', () => {
    expect(describeAccess({ verb: 'patch', group: '', resource: 'persistentvolumes' })).to.equal(
      'patch persistentvolumes',
    );
    expect(
      describeAccess({
        verb: 'patch',
        group: 'apps',
        resource: 'deployments',
        subresource: 'scale',
        namespace: 'a',
      }),
    ).to.equal('patch deployments.apps/scale in a');
  });
});
