import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import {
  KubeconfigError,
  kubeconfigFiles,
  loadKubeconfigFiles,
  type FileList,
} from '../../src/kube/kubeconfig-files.js';

/** Files in memory; a name not listed does not exist. */
function reader(files: Record<string, unknown>) {
  return (f: string): string => {
    if (!(f in files)) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
    const v = files[f];
    return typeof v === 'string' ? v : stringify(v);
  };
}

const list = (files: string[], explicit = false): FileList => ({ files, explicit, source: 'test' });
const cluster = (name: string, server: string, extra = {}) => ({ name, cluster: { server, ...extra } });
const ctx = (name: string, c: string, u: string, namespace?: string) => ({
  name,
  context: { cluster: c, user: u, ...(namespace ? { namespace } : {}) },
});

describe('kubeconfig files: which ones, merged with kubectl rules', () => {
  it('--kubeconfig alone; else KUBECONFIG (deduplicated, empty entries skipped); else ~/.kube/config', () => {
    expect(kubeconfigFiles('/x/k', { KUBECONFIG: '/a' }, 'linux')).to.include({ explicit: true });
    expect(kubeconfigFiles('/x/k', { KUBECONFIG: '/a' }, 'linux').files).to.deep.equal(['/x/k']);
    expect(kubeconfigFiles(undefined, { KUBECONFIG: '/b::/a:/b' }, 'linux').files).to.deep.equal([
      '/b',
      '/a',
    ]);
    expect(kubeconfigFiles(undefined, { KUBECONFIG: 'C:\\a;C:\\b' }, 'win32').files).to.deep.equal([
      'C:\\a',
      'C:\\b',
    ]);
    expect(kubeconfigFiles(undefined, { HOME: '/home/u', KUBECONFIG: '' }, 'linux').files).to.deep.equal([
      path.join('/home/u', '.kube', 'config'),
    ]);
  });

  it('the first file that sets current-context wins', () => {
    const read = reader({
      '/b': { 'current-context': 'from-b' },
      '/a': { 'current-context': 'from-a' },
      '/none': { clusters: [] },
    });
    expect(loadKubeconfigFiles(list(['/none', '/b', '/a']), { read }).currentContext).to.equal('from-b');
  });

  it('a name defined in several files is taken whole from the first one', () => {
    const read = reader({
      '/a': { clusters: [cluster('shared', 'https://a')], contexts: [ctx('shared', 'shared', 'u')] },
      '/b': {
        clusters: [cluster('shared', 'https://b'), cluster('only-b', 'https://ob')],
        contexts: [ctx('shared', 'shared', 'u', 'from-b')],
      },
    });
    const m = loadKubeconfigFiles(list(['/a', '/b']), { read });
    expect(m.clusters.get('shared')).to.deep.equal({ fields: { server: 'https://a' }, file: '/a' });
    expect(m.clusters.get('only-b')?.file).to.equal('/b');
    // Not merged field by field: b's namespace does not fill in a's context.
    expect(m.contexts.get('shared')?.fields).to.deep.equal({ cluster: 'shared', user: 'u' });
  });

  it('skips listed files that do not exist; --kubeconfig naming one that does not is refused', () => {
    const read = reader({ '/a': { 'current-context': 'x' } });
    const m = loadKubeconfigFiles(list(['/gone', '/a']), { read });
    expect(m).to.include({ currentContext: 'x' });
    expect(m.files).to.deep.equal(['/a']);
    expect(m.missing).to.deep.equal(['/gone']);
    expect(() => loadKubeconfigFiles(list(['/gone'], true), { read })).to.throw(
      KubeconfigError,
      /does not exist/,
    );
  });

  it('refuses a file that defines a name twice, as kubectl does', () => {
    const read = reader({ '/a': { clusters: [cluster('c', 'https://1'), cluster('c', 'https://2')] } });
    expect(() => loadKubeconfigFiles(list(['/a']), { read })).to.throw(/defines cluster "c" twice/);
  });

  it("resolves each entry's relative paths against its own file's directory", () => {
    const read = reader({
      'rel/one/config': {
        clusters: [cluster('c', 'https://x', { 'certificate-authority': 'ca.crt' })],
        users: [
          {
            name: 'u',
            user: {
              'client-certificate': 'certs/u.crt',
              'client-key': '/abs/u.key',
              tokenFile: '../token',
              exec: { command: './bin/login', args: [] },
            },
          },
          { name: 'on-path', user: { exec: { command: 'aws', args: [] } } },
        ],
      },
    });
    const m = loadKubeconfigFiles(list(['rel/one/config']), { read, cwd: '/home/alice', sep: '/' });
    expect(m.clusters.get('c')?.fields['certificate-authority']).to.equal('/home/alice/rel/one/ca.crt');
    const u = m.users.get('u')!.fields;
    expect(u['client-certificate']).to.equal('/home/alice/rel/one/certs/u.crt');
    expect(u['client-key']).to.equal('/abs/u.key');
    expect(u.tokenFile).to.equal('/home/alice/rel/token');
    expect((u.exec as { command: string }).command).to.equal('/home/alice/rel/one/bin/login');
    // A command without a path is looked up on PATH, as kubectl does.
    expect((m.users.get('on-path')!.fields.exec as { command: string }).command).to.equal('aws');
  });

  it('reads an empty file as an empty config, YAML 1.1 booleans as kubectl does, and names a broken file', () => {
    const read = reader({
      '/empty': '',
      '/yes': 'clusters:\n- name: c\n  cluster: {server: "https://x", insecure-skip-tls-verify: yes}\n',
      '/broken': 'clusters: [',
      '/scalar': 'just text',
    });
    expect(loadKubeconfigFiles(list(['/empty']), { read }).files).to.deep.equal(['/empty']);
    const yes = loadKubeconfigFiles(list(['/yes']), { read });
    expect(yes.clusters.get('c')?.fields['insecure-skip-tls-verify']).to.equal(true);
    expect(() => loadKubeconfigFiles(list(['/broken']), { read })).to.throw(/\/broken is not valid YAML/);
    expect(() => loadKubeconfigFiles(list(['/scalar']), { read })).to.throw(/\/scalar is not a kubeconfig/);
  });
});
