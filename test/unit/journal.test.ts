import { expect } from 'chai';
import {
  cleanPvcForJournal,
  isStepDone,
  JournalFormatError,
  parseJournal,
  serializeJournal,
  withStep,
} from '../../src/core/journal.js';
import { journal, pvc } from './fixtures.js';

describe('journal', () => {
  it('round-trips through its serialized form', () => {
    const j = withStep(journal(), 'copy', { status: 'done', finishedAt: '2026-01-01T00:01:00.000Z' });
    const back = parseJournal(serializeJournal(j));
    expect(back).to.deep.equal(j);
    expect(back.schemaVersion).to.equal(1);
    expect(isStepDone(back, 'copy')).to.equal(true);
    expect(isStepDone(back, 'finish')).to.equal(false);
  });

  it('refuses a journal from a newer version, saying so', () => {
    const text = JSON.stringify({ ...journal(), schemaVersion: 2 });
    expect(() => parseJournal(text)).to.throw(JournalFormatError, /schemaVersion 2.*newer/);
  });

  it('refuses a journal without version, or not JSON, or incomplete', () => {
    const noVersion = { ...journal() } as Record<string, unknown>;
    delete noVersion.schemaVersion;
    expect(() => parseJournal(JSON.stringify(noVersion))).to.throw(
      JournalFormatError,
      /unsupported schemaVersion/,
    );
    expect(() => parseJournal('{nope')).to.throw(JournalFormatError, /not valid JSON/);
    const partial = { ...journal() } as Record<string, unknown>;
    delete partial.original;
    expect(() => parseJournal(JSON.stringify(partial))).to.throw(JournalFormatError, /lacks "original"/);
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
