import { expect } from 'chai';
import { PVC_PROTECTION, releasableClaims } from '../../src/core/claim-protection.js';
import type { Pod, Pvc } from '../../src/core/types.js';

function claim(name: string, opts: { deleting?: boolean; finalizers?: string[]; rv?: string } = {}): Pvc {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: opts.rv ?? '42',
      finalizers: opts.finalizers ?? [PVC_PROTECTION],
      ...(opts.deleting === false ? {} : { deletionTimestamp: '2026-12-03T12:00:00Z' }),
    },
  };
}

function pod(name: string, claims: string[], phase = 'Running'): Pod {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      containers: [],
      volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
    },
    status: { phase },
  } as Pod;
}

describe('releasableClaims (the swap frees deleted claims no pod names)', () => {
  it('frees a deleted claim no pod names, keeping its other finalizers and its resourceVersion', () => {
    const c = claim('data', { finalizers: ['example.com/backup', PVC_PROTECTION], rv: '7' });
    expect(releasableClaims([c], [pod('other', ['logs'])])).to.deep.equal([
      { name: 'data', resourceVersion: '7', finalizers: ['example.com/backup'] },
    ]);
  });

  it('keeps a claim that any pod names: running, pending, finished or terminating', () => {
    for (const phase of ['Running', 'Pending', 'Succeeded', 'Failed']) {
      expect(releasableClaims([claim('data')], [pod('job-1', ['data'], phase)]), phase).to.deep.equal([]);
    }
    const terminating = pod('web-1', ['data']);
    terminating.metadata.deletionTimestamp = '2026-12-03T12:00:00Z';
    expect(releasableClaims([claim('data')], [terminating])).to.deep.equal([]);
  });

  it('leaves claims that are not being deleted, have no protection, or are absent', () => {
    expect(
      releasableClaims(
        [claim('a', { deleting: false }), claim('b', { finalizers: ['example.com/backup'] }), undefined],
        [],
      ),
    ).to.deep.equal([]);
  });

  it('decides per claim: the one a pod names stays, the other goes', () => {
    const got = releasableClaims(
      [claim('data'), claim('data-pvmove-x')],
      [pod('job-1', ['data'], 'Succeeded')],
    );
    expect(got.map((c) => c.name)).to.deep.equal(['data-pvmove-x']);
  });
});
