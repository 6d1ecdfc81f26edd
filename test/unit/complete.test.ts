import { expect } from 'chai';
import { complete, DIRECTIVE_DEFAULT, DIRECTIVE_NO_FILES, type Lookup } from '../../src/cli/complete.js';

const calls: Array<[string, string[]]> = [];
const lookup: Lookup = {
  names(kind, flags) {
    calls.push([kind, flags]);
    const names = {
      pvc: ['data', 'cache'],
      statefulset: ['db'],
      namespace: ['shop', 'default'],
      storageclass: ['fast'],
      context: ['prod'],
      cluster: ['prod-cluster'],
      user: ['admin'],
    };
    return Promise.resolve(names[kind]);
  },
};

describe('shell completion (__complete)', () => {
  beforeEach(() => (calls.length = 0));

  it('offers the subcommands and the claims of the namespace in the first position', async () => {
    const r = await complete(['-n', 'shop', ''], lookup);
    expect(r.candidates).to.deep.equal([
      'cleanup',
      'resume',
      'rollback',
      'status',
      'list',
      'completion',
      'data',
      'cache',
    ]);
    expect(r.directive).to.equal(DIRECTIVE_NO_FILES);
    expect(calls).to.deep.equal([['pvc', ['--namespace=shop']]]);
  });

  it('offers more claims after a claim, and StatefulSets once statefulset/ or sts/ is typed', async () => {
    expect((await complete(['data', ''], lookup)).candidates).to.deep.equal(['data', 'cache']);
    expect((await complete(['-n', 'shop', 'sts/'], lookup)).candidates).to.deep.equal(['sts/db']);
    expect(calls.at(-1)).to.deep.equal(['statefulset', ['--namespace=shop']]);
    expect((await complete(['statefulset/d'], lookup)).candidates).to.deep.equal(['statefulset/db']);
    expect((await complete(['--from-class', ''], lookup)).candidates).to.deep.equal(['fast']);
  });

  it("lists the move command's flags, filtered by the typed prefix", async () => {
    expect((await complete(['data', '--to-'], lookup)).candidates).to.deep.equal(['--to-class']);
    expect((await complete(['--time'], lookup)).candidates).to.include.members([
      '--timeout-copy',
      '--timeout-bind',
    ]);
  });

  it("lists only cleanup's flags after cleanup", async () => {
    const r = await complete(['cleanup', '--'], lookup);
    expect(r.candidates).to.include('--timeout-delete');
    expect(r.candidates).to.not.include('--to-class');
  });

  it('offers --force-unlock on the commands that take the lock, not on status', async () => {
    for (const words of [
      ['data', '--force'],
      ['resume', 'data', '--force'],
      ['rollback', '--force'],
      ['cleanup', '--force'],
    ])
      expect((await complete(words, lookup)).candidates, words.join(' ')).to.deep.equal(['--force-unlock']);
    expect((await complete(['status', '--force'], lookup)).candidates).to.deep.equal([]);
  });

  it('completes flag values: fixed lists, cluster names, files for --kubeconfig', async () => {
    expect((await complete(['data', '-o', ''], lookup)).candidates).to.deep.equal([
      'auto',
      'tree',
      'plain',
      'json',
    ]);
    expect((await complete(['data', '--verify=c'], lookup)).candidates).to.deep.equal([
      '--verify=count',
      '--verify=checksum',
    ]);
    expect((await complete(['data', '--to-class', ''], lookup)).candidates).to.deep.equal(['fast']);
    expect((await complete(['--context', 'x', '-n', ''], lookup)).candidates).to.deep.equal([
      'shop',
      'default',
    ]);
    expect(calls.at(-1)).to.deep.equal(['namespace', ['--context=x']]);
    expect((await complete(['--kubeconfig', ''], lookup)).directive).to.equal(DIRECTIVE_DEFAULT);
  });

  it('completes the shell of `completion`, and nothing after a full command line', async () => {
    expect((await complete(['completion', ''], lookup)).candidates).to.deep.equal(['bash', 'zsh']);
    expect((await complete(['cleanup', 'data', ''], lookup)).candidates).to.deep.equal([]);
  });
});
