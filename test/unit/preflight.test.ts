import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { resolveOwners } from '../../src/core/owners.js';
import {
  evaluatePreflight,
  nothingToDo,
  templateDrift,
  type PreflightFacts,
} from '../../src/core/preflight.js';
import { STALE_PROBE_MS, staleProbePods } from '../../src/core/probe.js';
import { prepareMigration } from '../../src/core/runner.js';
import { FakeCluster } from './fake-cluster.js';
import { journal, pod, pv, pvc, request } from './fixtures.js';
import { newMigrationJournal } from '../../src/core/journal.js';
import type { Pod } from '../../src/core/types.js';

/** A pod labelled like kubectl-pvmove's probe or copy pod of `migrationId`. */
function pvmovePod(name: string, role: string, migrationId: string, phase = 'Running'): Pod {
  const p = pod(name, 'data', undefined, phase);
  p.metadata.labels = {
    'app.kubernetes.io/managed-by': 'kubectl-pvmove',
    'pvmove.kubectl.io/migration-id': migrationId,
    'pvmove.kubectl.io/claim': 'data',
    'pvmove.kubectl.io/role': role,
  };
  return p;
}

function facts(over: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    claim: pvc(),
    sourcePv: pv('pv-source'),
    storageClass: { metadata: { name: 'fast' }, volumeBindingMode: 'Immediate' },
    podsUsingClaim: [],
    resolution: resolveOwners([], [], []),
    templateOwners: [],
    hpas: [],
    ...over,
  };
}

describe('preflight', () => {
  it('passes a bound claim moving to an existing class and a bigger size', () => {
    const r = evaluatePreflight(request(), facts());
    expect(r.problems).to.deep.equal([]);
    expect(r.targetClass).to.equal('fast');
    expect(r.targetSize).to.equal('2Gi');
  });

  it('keeps the class and size of the claim for what was not asked', () => {
    const r = evaluatePreflight(request({ toClass: undefined, size: '5Gi' }), facts());
    expect(r.targetClass).to.equal('standard');
    const s = evaluatePreflight(request({ size: undefined }), facts());
    expect(s.targetSize).to.equal('1Gi');
  });

  it('refuses a missing claim', () => {
    const r = evaluatePreflight(request(), facts({ claim: undefined }));
    expect(r.problems).to.deep.equal(['PersistentVolumeClaim data in namespace shop not found']);
  });

  it('refuses a claim that is not Bound', () => {
    const r = evaluatePreflight(request(), facts({ claim: pvc({ status: { phase: 'Pending' } }) }));
    expect(r.problems[0]).to.equal('PersistentVolumeClaim data in namespace shop is Pending, not Bound');
  });

  it('accepts a Block claim, and asks the target for the whole device', () => {
    const block = pvc({
      spec: {
        volumeMode: 'Block',
        storageClassName: 'local-block',
        resources: { requests: { storage: '64Mi' } },
      },
    });
    const device = pv('pv-source', { volumeMode: 'Block', capacity: { storage: '128Mi' } });
    const r = evaluatePreflight(request({ size: undefined }), facts({ claim: block, sourcePv: device }));
    expect(r.problems).to.deep.equal([]);
    expect(r.targetSize).to.equal('128Mi');
    expect(r.info.join()).to.contain('the source device holds 128Mi');
    const small = evaluatePreflight(request({ size: '100Mi' }), facts({ claim: block, sourcePv: device }));
    expect(small.problems.join()).to.contain(
      '--size 100Mi is smaller than the source device (PV pv-source holds 128Mi)',
    );
  });

  describe('a target class that provisions only in some topologies', () => {
    const pinned = pv('pv-source', {
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] },
          ],
        },
      },
    });
    const zoned = (values: string[], key = 'topology.kubernetes.io/zone') => ({
      metadata: { name: 'zonal' },
      provisioner: 'csi.example.com',
      allowedTopologies: [{ matchLabelExpressions: [{ key, values }] }],
    });

    it('refuses when the node a node-local source is on is not among them, naming the node and the class', () => {
      const r = evaluatePreflight(
        request({ toClass: 'zonal' }),
        facts({
          storageClass: zoned(['b']),
          sourcePv: pinned,
          sourceNodeLabels: { 'topology.kubernetes.io/zone': 'a' },
        }),
      );
      expect(r.problems.join()).to.contain(
        'StorageClass zonal provisions only where topology.kubernetes.io/zone in (b), and the source volume is only reachable on node n1',
      );
      const byName = evaluatePreflight(
        request({ toClass: 'zonal' }),
        facts({ storageClass: zoned(['n2'], 'kubernetes.io/hostname'), sourcePv: pinned }),
      );
      expect(byName.problems.join()).to.contain('kubernetes.io/hostname in (n2)');
    });

    it('accepts when the node matches, when the source can be reached anywhere, or when the labels are unknown', () => {
      const ok = (f: Partial<PreflightFacts>) =>
        evaluatePreflight(request({ toClass: 'zonal' }), facts(f)).problems;
      expect(
        ok({
          storageClass: zoned(['a']),
          sourcePv: pinned,
          sourceNodeLabels: { 'topology.kubernetes.io/zone': 'a' },
        }),
      ).to.deep.equal([]);
      expect(ok({ storageClass: zoned(['b']), sourcePv: pv('pv-source') })).to.deep.equal([]);
      expect(ok({ storageClass: zoned(['b']), sourcePv: pinned })).to.deep.equal([]);
    });
  });

  describe('a node-local target class (no provisioner)', () => {
    const localClass = { metadata: { name: 'local-fs' }, provisioner: 'kubernetes.io/no-provisioner' };
    const onNode = (node: string) => ({
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
        ],
      },
    });
    const free = (name: string, size: string, mode: string, node: string) => ({
      ...pv(name, {
        storageClassName: 'local-fs',
        capacity: { storage: size },
        volumeMode: mode,
        nodeAffinity: onNode(node),
      }),
      status: { phase: 'Available' },
    });
    const pinned = pv('pv-source', { nodeAffinity: onNode('n1') });

    it('accepts when a free PV of the mode and size is on the source node', () => {
      const pvs = [free('a', '1Gi', 'Filesystem', 'n2'), free('b', '4Gi', 'Filesystem', 'n1')];
      const r = evaluatePreflight(
        request({ toClass: 'local-fs' }),
        facts({ storageClass: localClass, sourcePv: pinned, pvs }),
      );
      expect(r.problems).to.deep.equal([]);
    });

    it('refuses, naming the node, the class and what is free, when none fits', () => {
      const pvs = [free('a', '4Gi', 'Filesystem', 'n2'), free('b', '1Gi', 'Filesystem', 'n1')];
      const r = evaluatePreflight(
        request({ toClass: 'local-fs' }),
        facts({ storageClass: localClass, sourcePv: pinned, pvs }),
      );
      expect(r.problems.join()).to.contain(
        'StorageClass local-fs has no PV the target claim could bind: its PVs are made by hand (kubernetes.io/no-provisioner) and it needs a free PersistentVolume of volumeMode Filesystem, at least 2Gi',
      );
      expect(r.problems.join()).to.contain('on node n1 (where the source volume is)');
      expect(r.problems.join()).to.contain('a (Filesystem, 4Gi, node n2), b (Filesystem, 1Gi, node n1)');
    });

    it('refuses a Filesystem claim to a class of Block volumes, and the other way round', () => {
      const pvs = [free('raw', '4Gi', 'Block', 'n1')];
      const r = evaluatePreflight(
        request({ toClass: 'local-fs' }),
        facts({ storageClass: localClass, sourcePv: pinned, pvs }),
      );
      expect(r.problems.join()).to.contain('a Filesystem claim cannot move to Block volumes');
      const block = pvc({
        spec: { volumeMode: 'Block', storageClassName: 'x', resources: { requests: { storage: '1Gi' } } },
      });
      const files = [free('fs', '4Gi', 'Filesystem', 'n1')];
      const b = evaluatePreflight(
        request({ toClass: 'local-fs' }),
        facts({
          claim: block,
          storageClass: localClass,
          sourcePv: { ...pinned, spec: { ...pinned.spec, volumeMode: 'Block' } },
          pvs: files,
        }),
      );
      expect(b.problems.join()).to.contain('a Block claim cannot move to Filesystem volumes');
    });
  });

  it('refuses a class that does not exist', () => {
    const r = evaluatePreflight(request({ toClass: 'gold' }), facts({ storageClass: undefined }));
    expect(r.problems).to.deep.equal(['StorageClass gold not found']);
  });

  it('refuses shrinking, and accepts the same size', () => {
    const r = evaluatePreflight(request({ size: '500Mi' }), facts());
    expect(r.problems.join()).to.match(/--size 500Mi is smaller than the claim's current request 1Gi/);
    expect(evaluatePreflight(request({ size: '1024Mi' }), facts()).problems).to.deep.equal([]);
  });

  it('refuses DaemonSets and bare pods, but bare pods pass with --delete-pods (with a warning)', () => {
    const pods = [pod('ds-1', 'data', { kind: 'DaemonSet', name: 'agent' }), pod('bare', 'data')];
    const f = facts({ podsUsingClaim: pods, resolution: resolveOwners(pods, [], []) });
    const r = evaluatePreflight(request(), f);
    expect(r.problems).to.have.length(2);
    expect(r.problems[0]).to.match(/DaemonSet agent mounts data/);
    expect(r.problems[1]).to.match(/pods bare use data and have no controller.*--delete-pods/);
    const d = evaluatePreflight(request({ deletePods: true }), f);
    expect(d.problems).to.have.length(1);
    expect(d.warnings.join()).to.match(/bare have no controller: they will be deleted and NOT re-created/);
    expect(d.barePods).to.deep.equal(['bare']);
  });

  it("never takes another kubectl-pvmove run's probe or copy pod for a bare pod", () => {
    const pods = [pvmovePod('pvmove-probe-data-mold', 'probe', 'mold'), pod('bare', 'data')];
    const f = facts({ podsUsingClaim: pods, resolution: resolveOwners(pods, [], []) });
    const r = evaluatePreflight(request(), f);
    expect(r.problems).to.have.length(2);
    expect(r.problems[0]).to.equal(
      'pod pvmove-probe-data-mold mounts data: it is the probe pod of another kubectl-pvmove run (migration mold); ' +
        'wait for that run to end and check `kubectl pvmove status data -n shop`, or, if no kubectl-pvmove run is ' +
        'active, delete it with `kubectl delete pod pvmove-probe-data-mold -n shop`',
    );
    expect(r.problems[1]).to.match(/^pods bare use data/);
    // --delete-pods deletes the user's bare pod, never kubectl-pvmove's, which still refuses.
    const d = evaluatePreflight(request({ deletePods: true }), f);
    expect(d.barePods).to.deep.equal(['bare']);
    expect(d.problems).to.have.length(1);
    expect(d.problems[0]).to.contain('pvmove-probe-data-mold').and.not.contain('--delete-pods');
    const copy = [pvmovePod('pvmove-copy-data-mold', 'copy-pod', 'mold')];
    const c = evaluatePreflight(
      request(),
      facts({ podsUsingClaim: copy, resolution: resolveOwners(copy, [], []) }),
    );
    expect(c.problems.join()).to.contain('it is the copy pod of another kubectl-pvmove run (migration mold)');
    expect(c.barePods).to.deep.equal([]);
  });

  it('refuses finished pods that still name the claim, with the command that deletes them', () => {
    const r = evaluatePreflight(request(), facts({ finishedPods: ['backup-1', 'backup-2'] }));
    expect(r.problems).to.deep.equal([
      'finished pods backup-1, backup-2 still name data, and Kubernetes keeps a claim while any pod names it, so the move would stop after the copy with the application down; ' +
        'delete them first with `kubectl delete pod backup-1 backup-2 -n shop`',
    ]);
  });

  it('refuses an HPA on an owner unless --ignore-hpa', () => {
    const f = facts({
      templateOwners: [{ kind: 'Deployment', name: 'web' }],
      hpas: [{ metadata: { name: 'web' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } } }],
    });
    expect(evaluatePreflight(request(), f).problems.join()).to.match(
      /HorizontalPodAutoscaler web targets Deployment web.*--ignore-hpa/,
    );
    const ok = evaluatePreflight(request({ ignoreHpa: true }), f);
    expect(ok.problems).to.deep.equal([]);
    expect(ok.owners).to.deep.equal([{ kind: 'Deployment', name: 'web' }]);
  });

  it('asks for --to-class when the claim has no class', () => {
    const r = evaluatePreflight(
      request({ toClass: undefined }),
      facts({ claim: pvc({ spec: { storageClassName: '' } }) }),
    );
    expect(r.problems.join()).to.match(/has no StorageClass; pass --to-class/);
  });
});

describe('StatefulSet template drift', () => {
  it('warns when the template of the claim still names another class', () => {
    const sets = [{ statefulSet: 'db', templates: [{ name: 'data', storageClassName: 'standard' }] }];
    expect(templateDrift('data-db-0', 'fast', sets)).to.have.length(1);
    expect(templateDrift('data-db-0', 'fast', sets)[0]).to.match(
      /StatefulSet db's volumeClaimTemplate data still asks for class standard/,
    );
    expect(templateDrift('data-db-0', 'standard', sets)).to.deep.equal([]);
    expect(templateDrift('other', 'fast', sets)).to.deep.equal([]);
    expect(templateDrift('data-db-x', 'fast', sets)).to.deep.equal([]);
  });
});

describe('nothing to do', () => {
  const claim = pvc(); // class standard, 1Gi, on pv-source

  it('answers a move to the class and size the claim already has', () => {
    const same = [
      request({ toClass: 'standard', size: '1Gi' }),
      request({ toClass: 'standard', size: '1024Mi' }),
      request({ toClass: 'standard', size: undefined }),
      request({ toClass: undefined, size: '1Gi' }),
    ];
    for (const req of same) expect(nothingToDo(req, claim), JSON.stringify(req)).to.not.equal(undefined);
    const n = nothingToDo(request({ toClass: 'standard', size: undefined }), claim);
    expect(n?.message).to.equal(
      'Nothing to do: claim data in shop already has class standard and size 1Gi (PV pv-source); nothing was changed. ' +
        'To copy it to a new volume of the same class anyway, run `kubectl pvmove data -n shop --to-class standard --fresh-volume`',
    );
    expect(n?.next).to.equal('kubectl pvmove data -n shop --to-class standard --fresh-volume');
  });

  it('runs a move that changes the class or the size, or asks for a fresh volume', () => {
    expect(nothingToDo(request({ toClass: 'fast', size: undefined }), claim)).to.equal(undefined);
    expect(nothingToDo(request({ toClass: 'standard', size: '2Gi' }), claim)).to.equal(undefined);
    expect(nothingToDo(request({ toClass: 'standard', freshVolume: true }), claim)).to.equal(undefined);
    expect(nothingToDo(request({ toClass: 'standard', size: 'nonsense' }), claim)).to.equal(undefined);
    expect(nothingToDo(request({ toClass: 'standard' }), undefined)).to.equal(undefined);
  });

  it('changes nothing and checks nothing for a new migration, but resumes a recorded one', async () => {
    const c = new FakeCluster();
    c.seed(); // claim data: standard, 1Gi; a Deployment with pods that would need stopping
    const same = request({ toClass: 'standard', size: undefined });
    const deps = {
      cluster: c,
      engine: tarEngine,
      emit: () => undefined,
      signal: new AbortController().signal,
      newId: () => 'mnew',
    };
    const prepared = await prepareMigration(same, deps);
    expect(prepared.nothingToDo?.message).to.match(/^Nothing to do/);
    expect(prepared.preflight).to.equal(undefined);
    expect(c.journals.size).to.equal(0);
    // An in-progress migration to that same class (the claim may already be on it) is resumed.
    const j = journal({ request: { toClass: 'standard', size: '1Gi', verify: 'count' } });
    await c.createJournal('shop', 'pvmove-data', {}, newMigrationJournal(j));
    const resumed = await prepareMigration(same, deps);
    expect(resumed.nothingToDo).to.equal(undefined);
    expect(resumed.plan.migrationId).to.equal('mabc1234');
  });
});

describe('stale probe pods', () => {
  const finished = (p: Pod, agoMs: number): Pod => ({
    ...p,
    status: {
      phase: p.status?.phase,
      containerStatuses: [
        { name: 'probe', state: { terminated: { exitCode: 0, finishedAt: new Date(1e12 - agoMs) } } },
      ],
    },
  });
  const now = 1e12;

  it('are probe pods of this claim that finished long ago, of any run', () => {
    const old = finished(
      pvmovePod('pvmove-probe-data-ma', 'probe', 'ma', 'Succeeded'),
      STALE_PROBE_MS + 1000,
    );
    const failed = finished(
      pvmovePod('pvmove-probe-data-mb', 'probe', 'mb', 'Failed'),
      STALE_PROBE_MS + 1000,
    );
    expect(staleProbePods([old, failed], 'data', now).map((p) => p.metadata.name)).to.deep.equal([
      'pvmove-probe-data-ma',
      'pvmove-probe-data-mb',
    ]);
  });

  it('are never a running probe, one that just finished, a copy pod or a pod of another claim', () => {
    const running = pvmovePod('pvmove-probe-data-ma', 'probe', 'ma', 'Running');
    const recent = finished(pvmovePod('pvmove-probe-data-mb', 'probe', 'mb', 'Succeeded'), 2000);
    const copy = finished(pvmovePod('pvmove-copy-data-mc', 'copy-pod', 'mc', 'Succeeded'), 3_600_000);
    const other = finished(pvmovePod('pvmove-probe-logs-md', 'probe', 'md', 'Succeeded'), 3_600_000);
    other.metadata.labels = { ...other.metadata.labels, 'pvmove.kubectl.io/claim': 'logs' };
    const users = finished(pod('job-pod', 'data', undefined, 'Succeeded'), 3_600_000);
    expect(staleProbePods([running, recent, copy, other, users], 'data', now)).to.deep.equal([]);
  });
});
