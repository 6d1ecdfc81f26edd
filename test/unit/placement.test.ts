import { expect } from 'chai';
import { describeNodeAffinity, placementConflict } from '../../src/core/placement.js';
import type { Pod } from '../../src/core/types.js';
import { pv } from './fixtures.js';

const pinned = (values: string[]) => ({
  required: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values }] }],
  },
});

function unschedulable(message: string, reason = 'Unschedulable'): Pod {
  return {
    metadata: { name: 'pvmove-copy-data-m1', namespace: 'shop' },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason, message }],
    },
  };
}

describe('copy pod placement', () => {
  const target = pv('pv-target', { nodeAffinity: pinned(['node-b']) });
  const source = pv('pv-source', { nodeAffinity: pinned(['node-a']) });

  it('names the target PV, both affinities and the way out when no node can mount both volumes', () => {
    const pod = unschedulable(
      '0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    expect(placementConflict(pod, target, source)).to.equal(
      'copy pod pvmove-copy-data-m1 cannot be scheduled (0/1 nodes are available: 1 node(s) had volume node ' +
        'affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.): ' +
        'the target PV pv-target can only be used on nodes with kubernetes.io/hostname In (node-b), ' +
        'the source PV pv-source can only be used on nodes with kubernetes.io/hostname In (node-a), ' +
        'and no node can mount both volumes; roll back and pick a class whose volumes can be created where ' +
        'the source is (for example a WaitForFirstConsumer class)',
    );
    expect(placementConflict(pod, target, pv('pv-source'))).to.contain(
      'the source PV pv-source has no node affinity',
    );
  });

  it("reads Kubernetes 1.36's wording, with several nodes", () => {
    const pod = unschedulable(
      "0/3 nodes are available: 3 node(s) didn't match PersistentVolume's node affinity. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    expect(placementConflict(pod, target, source)).to.contain(
      'the target PV pv-target can only be used on nodes',
    );
  });

  it('leaves a node excluded for another reason (a taint, CPU) to the start timeout', () => {
    const mixed = unschedulable(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match PersistentVolume's node affinity.",
    );
    expect(placementConflict(mixed, target, source)).to.equal(undefined);
  });

  it('leaves every other reason to the start timeout', () => {
    expect(placementConflict(unschedulable('0/1 nodes are available: 1 Insufficient cpu.'), target)).to.equal(
      undefined,
    );
    expect(
      placementConflict(
        unschedulable('1 node(s) had volume node affinity conflict', 'SchedulerError'),
        target,
      ),
    ).to.equal(undefined);
    expect(placementConflict({ metadata: { name: 'p' }, status: { phase: 'Pending' } }, target)).to.equal(
      undefined,
    );
  });

  it('prints node affinity on one line', () => {
    expect(
      describeNodeAffinity({
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: 'zone', operator: 'In', values: ['a', 'b'] },
              { key: 'gpu', operator: 'DoesNotExist' },
            ],
          },
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
        ],
      }),
    ).to.equal('zone In (a, b) and gpu DoesNotExist or metadata.name In (n1)');
    expect(describeNodeAffinity(undefined)).to.equal(undefined);
  });
});
