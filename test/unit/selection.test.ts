import { expect } from 'chai';
import type { JournalEntry } from '../../src/core/status.js';
import { UsageError } from '../../src/core/errors.js';
import type { OwnerId, Pvc } from '../../src/core/types.js';
import { whileLockedAll } from '../../src/cli/lock.js';
import { completeBatchRequest, type MoveArgv } from '../../src/cli/request.js';
import {
  parseSelection,
  resolveSelection,
  selectionWords,
  singleClaim,
  type Selection,
  type SelectionArgv,
  type SelectionPort,
} from '../../src/cli/selection.js';
import { FakeCluster } from './fake-cluster.js';

const ctxNs = () => 'shop';

function refusal(a: SelectionArgv): string {
  try {
    parseSelection(a);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(a)}`);
}

function pvc(
  namespace: string,
  name: string,
  storageClassName: string,
  labels: Record<string, string> = {},
): Pvc {
  return { metadata: { namespace, name, labels }, spec: { storageClassName } };
}

/** Only what resolving a selection reads. */
function cluster(pvcs: Pvc[], sets: Record<string, string[]> = {}, journals: JournalEntry[] = []) {
  const calls: string[] = [];
  const c: SelectionPort = {
    listJournals: async (ns?: string) => journals.filter((j) => ns === undefined || j.namespace === ns),
    getOwnerState: async (ns: string, o: OwnerId) => ({ ...o, exists: `${ns}/${o.name}` in sets }),
    getClaimTemplates: async (ns: string, name: string) =>
      (sets[`${ns}/${name}`] ?? []).map((t) => ({ name: t })),
    listPvcs: async (ns: string | undefined, selector?: string) => {
      calls.push(`${ns ?? '*'} ${selector ?? ''}`.trim());
      const [k, v] = (selector ?? '').split('=');
      return pvcs.filter(
        (p) => (ns === undefined || p.metadata.namespace === ns) && (!k || p.metadata.labels?.[k!] === v),
      );
    },
  };
  return { c, calls };
}

async function resolveRefusal(sel: Selection, c: ReturnType<typeof cluster>['c']): Promise<string> {
  try {
    await resolveSelection(c, sel, 'shop');
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('resolved');
}

describe('selection: which claims a move is about', () => {
  it('one name is the single move; two names, statefulset/, -l and --from-class are batches', () => {
    expect(singleClaim(parseSelection({ claims: ['data'] }))).to.equal('data');
    expect(parseSelection({ claims: ['a', 'b'] })).to.deep.equal({ kind: 'names', names: ['a', 'b'] });
    expect(singleClaim(parseSelection({ claims: ['a', 'b'] }))).to.equal(undefined);
    for (const typed of ['statefulset/db', 'sts/db', 'statefulsets/db', 'statefulset.apps/db'])
      expect(parseSelection({ claims: [typed] })).to.deep.equal({ kind: 'statefulset', typed, name: 'db' });
    expect(parseSelection({ claims: ['sts/db'], template: 'data', keepTemplate: true })).to.deep.equal({
      kind: 'statefulset',
      typed: 'sts/db',
      name: 'db',
      template: 'data',
    });
    expect(parseSelection({ claims: [], selector: 'app=kafka' })).to.deep.equal({
      kind: 'query',
      selector: 'app=kafka',
      allNamespaces: false,
    });
    expect(parseSelection({ fromClass: 'standard', allNamespaces: true })).to.deep.equal({
      kind: 'query',
      fromClass: 'standard',
      allNamespaces: true,
    });
    expect(singleClaim(parseSelection({ claims: ['sts/db'] }))).to.equal(undefined);
    expect(singleClaim(parseSelection({ selector: 'app=x' }))).to.equal(undefined);
  });

  it('refuses mixed forms and misplaced flags with one line that says what to do', () => {
    const cases: [SelectionArgv, RegExp][] = [
      [{}, /name the PersistentVolumeClaim to move, e\.g\. `kubectl pvmove data --to-class fast`/],
      [
        { claims: ['a'], selector: 'app=x' },
        /name the claims \(a\) or select them with -l\/--from-class, not both/,
      ],
      [{ claims: ['a', 'b'], fromClass: 'std' }, /not both/],
      [
        { claims: ['sts/db'], selector: 'app=x' },
        /select claims with sts\/db or with -l\/--from-class, not both/,
      ],
      [{ claims: ['sts/db', 'a'] }, /selects the claims of the StatefulSet on its own/],
      [{ claims: ['sts/db', 'sts/web'] }, /on its own/],
      [{ claims: ['sts/db'], allNamespaces: true }, /-A needs -l or --from-class/],
      [{ claims: ['a'], allNamespaces: true }, /-A needs -l SELECTOR or --from-class CLASS/],
      [{ allNamespaces: true }, /-A needs/],
      [{ claims: ['a'], template: 'data' }, /--template .* use it with statefulset\/NAME/],
      [{ selector: 'app=x', template: 'data' }, /--template/],
      [{ claims: ['a'], keepTemplate: true }, /--keep-template only applies to statefulset\/NAME/],
      [
        { claims: ['deployment/web'] },
        /only statefulset\/NAME \(or sts\/NAME\) selects claims by their owner/,
      ],
      [{ claims: ['sts/'] }, /StatefulSet "" is not a valid Kubernetes name/],
      [{ claims: ['sts/DB'] }, /not a valid Kubernetes name/],
      [{ claims: ['a', 'a'] }, /claim a is named twice/],
      [{ claims: ['a', 'B'] }, /claim "B" is not a valid/],
      [{ selector: ' ' }, /-l needs a label selector/],
      [{ fromClass: 'Bad_Class' }, /--from-class "Bad_Class" is not a valid/],
      [{ selector: 'app=x', allNamespaces: true, namespace: 'shop' }, /pass -n NAMESPACE or -A, not both/],
    ];
    for (const [argv, message] of cases) {
      const text = refusal(argv);
      expect(text, JSON.stringify(argv)).to.match(message);
      expect(text).to.not.include('\n');
    }
  });

  it('names the selection as typed for the printed commands', () => {
    expect(selectionWords(parseSelection({ claims: ['a', 'b'] }))).to.deep.equal(['a', 'b']);
    expect(selectionWords(parseSelection({ claims: ['sts/db'], template: 'data' }))).to.deep.equal([
      'sts/db',
      '--template',
      'data',
    ]);
    expect(selectionWords(parseSelection({ selector: 'app=kafka', fromClass: 'std' }))).to.deep.equal([
      '-l',
      'app=kafka',
      '--from-class',
      'std',
    ]);
  });

  it('resolves statefulset/NAME to the existing claims of its templates, by template then ordinal', async () => {
    const { c } = cluster(
      [
        pvc('shop', 'data-db-10', 'std'),
        pvc('shop', 'data-db-2', 'std'),
        pvc('shop', 'data-db-0', 'std'),
        pvc('shop', 'logs-db-0', 'std'),
        pvc('shop', 'data-db-x', 'std'), // not an ordinal
        pvc('shop', 'data-dbx-0', 'std'), // another StatefulSet
        pvc('shop', 'data-db-1', 'fast', {
          'app.kubernetes.io/managed-by': 'kubectl-pvmove',
          'pvmove.kubectl.io/role': 'target-claim',
        }),
        pvc('other', 'data-db-1', 'std'),
      ],
      { 'shop/db': ['data', 'logs'], 'shop/empty': [], 'shop/fresh': ['data'] },
    );
    const sts = (template?: string): Selection => ({
      kind: 'statefulset',
      typed: 'sts/db',
      name: 'db',
      ...(template ? { template } : {}),
    });
    expect(await resolveSelection(c, sts(), 'shop')).to.deep.equal([
      { namespace: 'shop', claims: ['data-db-0', 'data-db-2', 'data-db-10', 'logs-db-0'] },
    ]);
    expect(await resolveSelection(c, sts('logs'), 'shop')).to.deep.equal([
      { namespace: 'shop', claims: ['logs-db-0'] },
    ]);
    expect(await resolveRefusal(sts('cache'), c)).to.match(
      /StatefulSet shop\/db has no volumeClaimTemplate cache \(it has data, logs\)/,
    );
    expect(await resolveRefusal({ kind: 'statefulset', typed: 'sts/nope', name: 'nope' }, c)).to.match(
      /StatefulSet shop\/nope does not exist; nothing was changed/,
    );
    expect(await resolveRefusal({ kind: 'statefulset', typed: 'sts/empty', name: 'empty' }, c)).to.match(
      /has no volumeClaimTemplates/,
    );
    expect(await resolveRefusal({ kind: 'statefulset', typed: 'sts/fresh', name: 'fresh' }, c)).to.match(
      /StatefulSet shop\/fresh has no claims yet \(none named data-fresh-N\)/,
    );
  });

  it("resolves -l and --from-class in the namespace, or per namespace with -A, never pvmove's own claims", async () => {
    const { c, calls } = cluster([
      pvc('shop', 'b', 'std', { app: 'kafka' }),
      pvc('shop', 'a', 'std', { app: 'kafka' }),
      pvc('shop', 'c', 'fast', { app: 'kafka' }),
      pvc('web', 'd', 'std'),
      pvc('shop', 'pvmove-a-m1', 'std', {
        app: 'kafka',
        'app.kubernetes.io/managed-by': 'kubectl-pvmove',
        'pvmove.kubectl.io/role': 'target-claim',
      }),
    ]);
    expect(
      await resolveSelection(c, { kind: 'query', selector: 'app=kafka', allNamespaces: false }, 'shop'),
    ).to.deep.equal([{ namespace: 'shop', claims: ['a', 'b', 'c'] }]);
    expect(calls.at(-1)).to.equal('shop app=kafka');
    expect(
      await resolveSelection(
        c,
        { kind: 'query', selector: 'app=kafka', fromClass: 'std', allNamespaces: false },
        'shop',
      ),
    ).to.deep.equal([{ namespace: 'shop', claims: ['a', 'b'] }]);
    expect(
      await resolveSelection(c, { kind: 'query', fromClass: 'std', allNamespaces: true }, ''),
    ).to.deep.equal([
      { namespace: 'shop', claims: ['a', 'b'] },
      { namespace: 'web', claims: ['d'] },
    ]);
    expect(calls.at(-1)).to.equal('*');
    expect(await resolveRefusal({ kind: 'query', selector: 'app=nope', allNamespaces: false }, c)).to.equal(
      "no claim in namespace shop has label selector app=nope; nothing was changed. List the claims with `kubectl get pvc -n shop -l 'app=nope'` and fix the selection.",
    );
    expect(await resolveRefusal({ kind: 'query', fromClass: 'gold', allNamespaces: false }, c)).to.match(
      /^no claim in namespace shop has class gold/,
    );
  });

  it('--from-class finds again the claims an interrupted batch of that class already swapped', async () => {
    const journal = (phase: string, claims: [string, string][]): JournalEntry =>
      ({
        namespace: 'shop',
        name: 'pvmove-batch-m1',
        document: {
          namespace: 'shop',
          phase,
          claims: claims.map(([name, cls]) => ({
            name,
            original: { pvc: pvc('shop', name, cls) },
          })),
        },
      }) as unknown as JournalEntry;
    const pvcs = [pvc('shop', 'a', 'fast'), pvc('shop', 'b', 'std')];
    const sel: Selection = { kind: 'query', fromClass: 'std', allNamespaces: false };
    const { c } = cluster(pvcs, {}, [
      journal('in-progress', [
        ['a', 'std'],
        ['b', 'std'],
      ]),
    ]);
    expect(await resolveSelection(c, sel, 'shop')).to.deep.equal([{ namespace: 'shop', claims: ['a', 'b'] }]);
    for (const other of [
      journal('finished', [
        ['a', 'std'],
        ['b', 'std'],
      ]),
      journal('in-progress', [
        ['a', 'gold'],
        ['x', 'gold'],
      ]),
    ]) {
      const { c: c2 } = cluster(pvcs, {}, [other]);
      expect(await resolveSelection(c2, sel, 'shop')).to.deep.equal([{ namespace: 'shop', claims: ['b'] }]);
    }
  });

  it('builds a batch request per namespace: the commands name the selection as typed', () => {
    const argv: MoveArgv = { claims: ['statefulset/db'], toClass: 'fast', size: '2Gi', namespace: 'shop' };
    const selection = parseSelection(argv);
    const { request } = completeBatchRequest(argv, selection, ctxNs);
    const b = request.batchFor({ namespace: 'shop', claims: ['data-db-0', 'data-db-1'] });
    expect(b.claims).to.deep.equal(['data-db-0', 'data-db-1']);
    expect(b.parallel).to.equal(4);
    expect(b.rewriteTemplates).to.equal(true);
    expect(b.base.claim).to.equal('data-db-0');
    expect(b.base.namespace).to.equal('shop');
    expect(b.base.commands.resume).to.equal(
      'kubectl pvmove statefulset/db -n shop --to-class fast --size 2Gi',
    );
    // rollback, status and cleanup stay per claim: a claim of a batch finds the batch's journal.
    expect(b.base.commands.rollback).to.equal('kubectl pvmove rollback data-db-0 -n shop');

    const keep: MoveArgv = { ...argv, keepTemplate: true, parallel: '2', context: 'prod' };
    const kept = completeBatchRequest(keep, parseSelection(keep), ctxNs).request.batchFor({
      namespace: 'shop',
      claims: ['data-db-0'],
    });
    expect(kept.rewriteTemplates).to.equal(false);
    expect(kept.parallel).to.equal(2);
    expect(kept.base.commands.resume).to.equal(
      'kubectl pvmove statefulset/db -n shop --to-class fast --size 2Gi --parallel 2 --keep-template --context prod',
    );

    const byLabel: MoveArgv = { selector: 'app in (a,b)', toClass: 'fast', allNamespaces: true };
    const all = completeBatchRequest(byLabel, parseSelection(byLabel), () => {
      throw new Error('-A reads no namespace from the kubeconfig');
    }).request;
    expect(all.namespace).to.equal('');
    const web = all.batchFor({ namespace: 'web', claims: ['x', 'y'] });
    expect(web.rewriteTemplates).to.equal(false);
    expect(web.base.commands.resume).to.equal("kubectl pvmove -l 'app in (a,b)' -n web --to-class fast");
  });

  it('checks --parallel and the move flags as a single move does', () => {
    const bad = (a: MoveArgv): string => {
      try {
        completeBatchRequest(a, parseSelection(a), ctxNs);
      } catch (err) {
        expect(err).to.be.instanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    for (const p of ['0', '-1', '1.5', 'four', ''])
      expect(bad({ claims: ['a', 'b'], toClass: 'fast', parallel: p })).to.match(
        /^--parallel .* is not a positive whole number of claims to copy at once, e\.g\. --parallel 4\./,
      );
    expect(bad({ claims: ['a', 'b'] })).to.match(/say where to move/);
    expect(bad({ claims: ['a', 'b'], toClass: 'fast', size: 'big' })).to.match(/--size "big"/);
  });

  it("takes every claim's lock in sorted order and releases them all", async () => {
    const fake = new FakeCluster();
    const created: string[] = [];
    const createLease = fake.createLease.bind(fake);
    fake.createLease = async (lease) => {
      created.push(lease.name);
      return createLease(lease);
    };
    const held = await whileLockedAll(
      {
        cluster: fake,
        req: {
          claims: ['c', 'a', 'b', 'a'],
          namespace: 'shop',
          commands: { resume: 'r', cleanup: 'c', rollback: 'b', kubeArgs: [], moveArgs: [] },
        },
        cli: { output: 'plain', yes: true, dryRun: false, kube: {}, forceUnlock: false },
        command: 'move',
        emit: () => undefined,
        signal: new AbortController().signal,
      },
      async () => [...fake.leases.keys()].sort(),
    );
    expect(created).to.deep.equal(['pvmove-a', 'pvmove-b', 'pvmove-c']);
    expect(held).to.have.length(3);
    expect([...fake.leases.keys()]).to.deep.equal([]);
  });
});
