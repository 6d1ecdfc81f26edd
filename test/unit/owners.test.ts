import { expect } from 'chai';
import { hpaConflicts, mergeOwners, podsUsingClaim, resolveOwners } from '../../src/core/owners.js';
import type { Workload } from '../../src/core/types.js';
import { pod } from './fixtures.js';

const rs = (name: string, owner?: { kind: string; name: string }): Workload => ({
  kind: 'ReplicaSet',
  metadata: {
    name,
    ...(owner
      ? {
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'x', controller: true },
          ],
        }
      : {}),
  },
});
const job = (name: string, owner?: { kind: string; name: string }): Workload => ({
  kind: 'Job',
  metadata: {
    name,
    ...(owner
      ? {
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: owner.kind, name: owner.name, uid: 'y', controller: true },
          ],
        }
      : {}),
  },
});

describe('owner chain resolution', () => {
  it('goes from a pod through its ReplicaSet to the Deployment', () => {
    const r = resolveOwners(
      [pod('web-1', 'data', { kind: 'ReplicaSet', name: 'web-abc' })],
      [rs('web-abc', { kind: 'Deployment', name: 'web' })],
      [],
    );
    expect(r.owners).to.deep.equal([{ kind: 'Deployment', name: 'web' }]);
    expect(r.barePods).to.deep.equal([]);
    expect(r.unknown).to.deep.equal([]);
  });

  it('keeps a bare ReplicaSet, a StatefulSet and a ReplicationController as they are', () => {
    const r = resolveOwners(
      [
        pod('a', 'data', { kind: 'ReplicaSet', name: 'lonely' }),
        pod('b', 'data', { kind: 'StatefulSet', name: 'db' }),
        pod('c', 'data', { kind: 'ReplicationController', name: 'old' }),
      ],
      [rs('lonely')],
      [],
    );
    expect(r.owners).to.deep.equal([
      { kind: 'StatefulSet', name: 'db' },
      { kind: 'ReplicaSet', name: 'lonely' },
      { kind: 'ReplicationController', name: 'old' },
    ]);
  });

  it('suspends both the CronJob and its running Job, CronJob first', () => {
    const r = resolveOwners(
      [pod('j-1', 'data', { kind: 'Job', name: 'backup-123' })],
      [],
      [job('backup-123', { kind: 'CronJob', name: 'backup' })],
    );
    expect(r.owners).to.deep.equal([
      { kind: 'CronJob', name: 'backup' },
      { kind: 'Job', name: 'backup-123' },
    ]);
  });

  it('reports DaemonSets, bare pods and unknown controllers separately', () => {
    const r = resolveOwners(
      [
        pod('ds-1', 'data', { kind: 'DaemonSet', name: 'agent' }),
        pod('ds-2', 'data', { kind: 'DaemonSet', name: 'agent' }),
        pod('bare', 'data'),
        pod('op-1', 'data', { kind: 'Rollout', name: 'canary' }),
        pod('rs-gone', 'data', { kind: 'ReplicaSet', name: 'missing' }),
      ],
      [],
      [],
    );
    expect(r.owners).to.deep.equal([]);
    expect(r.daemonSets).to.deep.equal([{ kind: 'DaemonSet', name: 'agent' }]);
    expect(r.barePods).to.deep.equal(['bare']);
    expect(r.unknown).to.have.length(2);
    expect(r.unknown[0]).to.match(/Rollout canary/);
    expect(r.unknown[1]).to.match(/ReplicaSet missing, which was not found/);
  });

  it('deduplicates owners of several pods', () => {
    const owner = { kind: 'ReplicaSet', name: 'web-abc' };
    const r = resolveOwners(
      [pod('w1', 'data', owner), pod('w2', 'data', owner)],
      [rs('web-abc', { kind: 'Deployment', name: 'web' })],
      [],
    );
    expect(r.owners).to.have.length(1);
  });

  it('merges template owners with pod owners without duplicates', () => {
    expect(
      mergeOwners(
        [{ kind: 'Deployment', name: 'web' }],
        [
          { kind: 'Deployment', name: 'web' },
          { kind: 'CronJob', name: 'backup' },
        ],
      ),
    ).to.deep.equal([
      { kind: 'CronJob', name: 'backup' },
      { kind: 'Deployment', name: 'web' },
    ]);
  });

  it('counts only active pods that mount the claim, and never the copy pod', () => {
    const pods = [
      pod('a', 'data'),
      pod('b', 'other'),
      pod('c', 'data', undefined, 'Succeeded'),
      pod('d', 'data', undefined, 'Failed'),
      pod('pvmove-copy-data-m1', 'data'),
      pod('e', 'data', undefined, 'Pending'),
    ];
    expect(podsUsingClaim(pods, 'data', 'pvmove-copy-data-m1').map((p) => p.metadata.name)).to.deep.equal([
      'a',
      'e',
    ]);
  });

  it('finds HPAs that target an owner', () => {
    const hpas = [
      { metadata: { name: 'web-hpa' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } } },
      { metadata: { name: 'other' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' } } },
    ];
    expect(hpaConflicts(hpas, [{ kind: 'Deployment', name: 'web' }])).to.deep.equal([
      'HorizontalPodAutoscaler web-hpa targets Deployment web',
    ]);
  });
});
