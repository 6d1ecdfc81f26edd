import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  claimJournal,
  cleanPvcForJournal,
  isStepDone,
  JournalFormatError,
  newMigrationJournal,
  parseJournal,
  putClaimJournal,
  serializeJournal,
  withStep,
  type Journal,
  type MigrationJournal,
} from '../../src/core/journal.js';
import { planRollback } from '../../src/core/rollback.js';
import { statusesOf } from '../../src/core/status.js';
import { journal, observed, pvc } from './fixtures.js';

/** Journals the first release (schema 1) wrote on the test bed, kept as they were. */
const v1 = (name: string): string =>
  readFileSync(new URL(`./fixtures/journal-v1-${name}.json`, import.meta.url), 'utf8');

const viewOf = (doc: MigrationJournal, claim = 'data'): Journal => {
  const j = claimJournal(doc, claim);
  if (!j) throw new Error(`no claim ${claim}`);
  return j;
};

describe('journal', () => {
  it('round-trips through its serialized form as schema 2, one claim in a list', () => {
    const j = withStep(journal(), 'copy', { status: 'done', finishedAt: '2026-01-01T00:01:00.000Z' });
    const doc = parseJournal(serializeJournal(newMigrationJournal(j)));
    expect(doc.schemaVersion).to.equal(2);
    expect(doc.claims.map((c) => c.name)).to.deep.equal(['data']);
    expect(doc.owners).to.deep.equal([{ kind: 'Deployment', name: 'web', replicas: 2 }]);
    expect(doc.claims[0]?.owners).to.deep.equal([{ kind: 'Deployment', name: 'web' }]);
    const back = viewOf(doc);
    expect(back).to.deep.equal(j);
    expect(isStepDone(back, 'copy')).to.equal(true);
    expect(isStepDone(back, 'finish')).to.equal(false);
  });

  it('keeps claims apart: each its own steps, PVs and end; the owners shared', () => {
    const a = journal();
    const b = journal({
      claim: { namespace: 'shop', name: 'logs' },
      original: {
        ...a.original,
        pvcUid: 'uid-logs',
        sourcePv: { name: 'pv-logs', reclaimPolicy: 'Retain' },
        owners: [
          { kind: 'Deployment', name: 'web', replicas: 2 },
          { kind: 'CronJob', name: 'rotate', suspend: false },
        ],
      },
      names: { targetClaim: 'logs-pvmove-mabc1234', copyPod: 'pvmove-copy-logs-mabc1234' },
    });
    let doc = putClaimJournal(newMigrationJournal(a), b);
    doc = putClaimJournal(doc, withStep(viewOf(doc, 'logs'), 'copy', { status: 'done' }));
    doc = putClaimJournal(doc, { ...viewOf(doc, 'data'), phase: 'finished' });
    expect(doc.claims.map((c) => c.name)).to.deep.equal(['data', 'logs']);
    expect(doc.owners.map((o) => o.name).sort()).to.deep.equal(['rotate', 'web']);
    expect(viewOf(doc, 'data').original.owners.map((o) => o.name)).to.deep.equal(['web']);
    expect(viewOf(doc, 'logs').original.sourcePv.name).to.equal('pv-logs');
    expect(isStepDone(viewOf(doc, 'logs'), 'copy')).to.equal(true);
    expect(isStepDone(viewOf(doc, 'data'), 'copy')).to.equal(false);
    // One claim finished: the migration is not, until the other one is too.
    expect(viewOf(doc, 'data').phase).to.equal('finished');
    expect(viewOf(doc, 'logs').phase).to.equal('in-progress');
    expect(doc.phase).to.equal('in-progress');
    doc = putClaimJournal(doc, {
      ...viewOf(doc, 'logs'),
      phase: 'finished',
      finishedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(doc.phase).to.equal('finished');
    expect(viewOf(doc, 'data').phase).to.equal('finished');
    expect(claimJournal(doc, 'other')).to.equal(undefined);
  });

  it('refuses a journal from a newer version, saying so', () => {
    const text = JSON.stringify({ ...newMigrationJournal(journal()), schemaVersion: 3 });
    expect(() => parseJournal(text)).to.throw(JournalFormatError, /schemaVersion 3.*newer/);
  });

  it('refuses a journal without version, or not JSON, or incomplete', () => {
    const noVersion = { ...newMigrationJournal(journal()) } as Record<string, unknown>;
    delete noVersion.schemaVersion;
    expect(() => parseJournal(JSON.stringify(noVersion))).to.throw(
      JournalFormatError,
      /unsupported schemaVersion/,
    );
    expect(() => parseJournal('{nope')).to.throw(JournalFormatError, /not valid JSON/);
    const partial = { ...newMigrationJournal(journal()) } as Record<string, unknown>;
    delete partial.claims;
    expect(() => parseJournal(JSON.stringify(partial))).to.throw(JournalFormatError, /lacks "claims"/);
    const oldPartial = { ...journal(), schemaVersion: 1 } as Record<string, unknown>;
    delete oldPartial.original;
    expect(() => parseJournal(JSON.stringify(oldPartial))).to.throw(JournalFormatError, /lacks "original"/);
  });

  it('withStep does not mutate the journal it is given', () => {
    const j = journal();
    withStep(j, 'copy', { status: 'started' });
    expect(j.steps).to.deep.equal({});
  });

  it('records the original claim without server-owned fields', () => {
    const live = pvc({ metadata: { name: 'data', namespace: 'shop', uid: 'u1', resourceVersion: '42' } });
    const clean = cleanPvcForJournal(live);
    expect(clean.metadata).to.not.have.property('resourceVersion');
    expect(clean.metadata.uid).to.equal('u1');
    expect(clean.spec?.storageClassName).to.equal('standard');
    expect(clean.status).to.deep.equal({ phase: 'Bound', capacity: { storage: '1Gi' } });
  });
});

describe('journals of schema 1 (the first release)', () => {
  it('reads one stopped after the copy: every field the steps use, as it was written', () => {
    const raw = JSON.parse(v1('after-copy')) as Record<string, unknown> & Journal;
    const doc = parseJournal(v1('after-copy'));
    expect(doc.schemaVersion).to.equal(2);
    expect(doc.namespace).to.equal('v1fixture');
    const j = viewOf(doc);
    const { schemaVersion: _v, ...expected } = raw;
    expect(j).to.deep.equal(expected);
    expect(j.original.targetPv?.name).to.match(/^pvc-/);
    expect(j.copy?.sourceFingerprint).to.be.a('string');
    expect(j.steps.copy?.status).to.equal('done');
    expect(j.original.owners).to.deep.equal([{ kind: 'Deployment', name: 'web', replicas: 1 }]);
  });

  it('is written back as schema 2 and reads the same', () => {
    const doc = parseJournal(v1('after-prebind'));
    const again = parseJournal(serializeJournal(putClaimJournal(doc, viewOf(doc))));
    expect(viewOf(again)).to.deep.equal(viewOf(doc));
    expect(JSON.parse(serializeJournal(again)).schemaVersion).to.equal(2);
  });

  it('shows status, resume and rollback the same way as a new journal', () => {
    const [inProgress] = statusesOf({
      namespace: 'v1fixture',
      name: 'pvmove-data',
      document: parseJournal(v1('after-copy')),
    });
    expect(inProgress?.step).to.equal('release-claims');
    expect(inProgress?.next).to.equal('kubectl pvmove data -n v1fixture --to-class fast --size 128Mi');
    const [finished] = statusesOf({
      namespace: 'v1cleanup',
      name: 'pvmove-data',
      document: parseJournal(v1('finished')),
    });
    expect(finished?.phase).to.equal('finished');
    expect(finished?.next).to.equal('kubectl pvmove cleanup data -n v1cleanup');
    // Past the pre-bind the target PV may hold writes: a rollback keeps it.
    const afterPrebind = viewOf(parseJournal(v1('after-prebind')));
    expect(planRollback(observed({ journal: afterPrebind }) as never).keepTargetPv).to.equal(true);
    const afterCopy = viewOf(parseJournal(v1('after-copy')));
    expect(planRollback(observed({ journal: afterCopy }) as never).keepTargetPv).to.equal(false);
  });
});
