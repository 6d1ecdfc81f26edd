import { expect } from 'chai';
import yargs from 'yargs';
import { complete, DIRECTIVE_DEFAULT, type Lookup } from '../../src/cli/complete.js';
import { connectionArgs, kubeTarget, targetLine, withKubeFlags, type KubeArgv } from '../../src/cli/flags.js';

const parse = (args: string[]) => withKubeFlags(yargs(args).strict(false)).parseSync() as unknown as KubeArgv;

describe("kubectl's connection flags", () => {
  it('parses them as kubectl does: --as-group repeatable without swallowing the claim, -s for --server', () => {
    const a = parse([
      '--as-group',
      'a',
      'data',
      '--as-group=b',
      '-s',
      'https://x',
      '--insecure-skip-tls-verify',
    ]);
    const t = kubeTarget(a, {});
    expect(t).to.deep.include({ asGroups: ['a', 'b'], server: 'https://x', insecureSkipTlsVerify: true });
    expect((a as { _: unknown[] })._).to.deep.equal(['data']);
    expect(kubeTarget(parse(['--as-group', 'only']), {}).asGroups).to.deep.equal(['only']);
  });

  it('are repeated in the commands the plugin prints, but never the token', () => {
    const a = parse([
      '--context=prod',
      '--as',
      'system:serviceaccount:ns:sa',
      '--as-group',
      'g1',
      '--as-group',
      'g2',
      '--token',
      'secret-value',
      '--server',
      'https://api',
    ]);
    const args = connectionArgs(a);
    expect(args).to.deep.equal([
      '--context',
      'prod',
      '--server',
      'https://api',
      '--token',
      '<token>',
      '--as',
      'system:serviceaccount:ns:sa',
      '--as-group',
      'g1',
      '--as-group',
      'g2',
    ]);
    expect(args.join(' ')).to.not.contain('secret-value');
  });

  it('the target line names context, cluster, server, user, impersonation and namespace', () => {
    expect(
      targetLine({
        context: 'prod',
        cluster: 'eu',
        server: 'https://api',
        user: 'admin',
        namespace: 'shop',
        as: 'alice',
        asGroups: ['a', 'b'],
        asUid: '7',
      }),
    ).to.equal(
      'Acting on context prod: cluster eu at https://api, user admin impersonating alice (groups a, b; uid 7), namespace shop',
    );
    expect(
      targetLine({ context: '', cluster: '', server: 'https://api', user: '', namespace: 'default' }),
    ).to.equal('Acting on context (none): cluster (none) at https://api, user (none), namespace default');
  });
});

describe('completion of the connection flags', () => {
  const calls: Array<[string, string[]]> = [];
  const lookup: Lookup = {
    names(kind, flags) {
      calls.push([kind, flags]);
      return Promise.resolve({ cluster: ['eu', 'us'], user: ['admin'] }[kind as 'cluster'] ?? ['data']);
    },
  };

  it('offers them on every command', async () => {
    for (const words of [['--'], ['cleanup', '--'], ['rollback', 'data', '--'], ['status', '--']]) {
      const r = await complete(words, lookup);
      expect(r.candidates, words.join(' ')).to.include.members([
        '--as',
        '--as-group',
        '--as-uid',
        '--user',
        '--cluster',
        '--server',
        '--token',
        '--certificate-authority',
        '--client-certificate',
        '--client-key',
        '--insecure-skip-tls-verify',
        '--tls-server-name',
        '--request-timeout',
      ]);
      expect((await complete([...words.slice(0, -1), '-'], lookup)).candidates).to.include('-s');
    }
  });

  it('completes --cluster and --user from the kubeconfig, files for certificates, and passes the flags on', async () => {
    expect((await complete(['--cluster', ''], lookup)).candidates).to.deep.equal(['eu', 'us']);
    expect((await complete(['--user='], lookup)).candidates).to.deep.equal(['--user=admin']);
    expect((await complete(['--client-key', ''], lookup)).directive).to.equal(DIRECTIVE_DEFAULT);
    calls.length = 0;
    await complete(
      ['--as', 'sa', '--as-group', 'g', '-s', 'https://api', '--insecure-skip-tls-verify', ''],
      lookup,
    );
    expect(calls).to.deep.equal([
      ['pvc', ['--as=sa', '--as-group=g', '--server=https://api', '--insecure-skip-tls-verify']],
    ]);
  });
});
