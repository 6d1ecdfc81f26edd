import { expect } from 'chai';
import type { Fields, MergedKubeconfig } from '../../src/kube/kubeconfig-files.js';
import {
  parseRequestTimeout,
  resolveKubeconfig,
  type KubeOverrides,
} from '../../src/kube/kubeconfig-resolve.js';

function merged(
  d: { clusters?: Record<string, Fields>; users?: Record<string, Fields>; contexts?: Record<string, Fields> },
  currentContext = 'main',
): MergedKubeconfig {
  const map = (o: Record<string, Fields> = {}) =>
    new Map(Object.entries(o).map(([k, fields]) => [k, { fields, file: '/k' }]));
  return {
    currentContext,
    clusters: map(d.clusters),
    users: map(d.users),
    contexts: map(d.contexts),
    files: ['/k'],
    missing: [],
  };
}

const base = merged({
  clusters: {
    main: { server: 'https://main', 'certificate-authority': '/ca', 'tls-server-name': 'api.main' },
    other: { server: 'https://other', 'insecure-skip-tls-verify': true },
  },
  users: {
    admin: { token: 'admin-token', as: 'from-file', 'as-groups': ['file-group'] },
    viewer: { 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' },
  },
  contexts: {
    main: { cluster: 'main', user: 'admin', namespace: 'team' },
    other: { cluster: 'other', user: 'viewer' },
  },
});

const resolve = (o: KubeOverrides = {}, m = base) => resolveKubeconfig(m, o, '/cwd');

describe('kubeconfig resolution: kubectl precedence of flags over the kubeconfig', () => {
  it('current-context, its cluster, user and namespace', () => {
    expect(resolve()).to.deep.include({
      context: 'main',
      clusterName: 'main',
      userName: 'admin',
      namespace: 'team',
    });
    expect(resolve().cluster.server).to.equal('https://main');
  });

  it('--context, then --cluster/--user/-n over the context; no namespace anywhere is "default"', () => {
    expect(resolve({ context: 'other' })).to.deep.include({
      clusterName: 'other',
      userName: 'viewer',
      namespace: 'default',
    });
    expect(resolve({ cluster: 'other', user: 'viewer', namespace: 'x' })).to.deep.include({
      context: 'main',
      clusterName: 'other',
      userName: 'viewer',
      namespace: 'x',
    });
  });

  it('names what is missing, and what to pass instead', () => {
    expect(() => resolve({ context: 'nope' })).to.throw(
      /context "nope" is not in the kubeconfig \(contexts: main, other\)/,
    );
    expect(() => resolve({ cluster: 'nope' })).to.throw(/cluster "nope" is not in the kubeconfig/);
    expect(() => resolve({ user: 'nope' })).to.throw(/user "nope" is not in the kubeconfig/);
    expect(() => resolve({}, { ...base, currentContext: 'gone' })).to.throw(
      /current-context "gone" is not one of its contexts/,
    );
    expect(() => resolve({}, { ...base, currentContext: '' })).to.throw(/sets no current-context/);
    const dangling = merged({ contexts: { main: { cluster: 'gone', user: 'u' } } });
    expect(() => resolve({}, dangling)).to.throw(/names cluster "gone", which is not in the kubeconfig/);
    expect(() => resolve({}, { ...dangling, files: [], missing: ['/a'] })).to.throw(
      /no kubeconfig file found \(\/a do not exist\)/,
    );
  });

  it('--server and --token work without any kubeconfig; a user the context names but nobody defines is anonymous', () => {
    const empty = { ...merged({}, ''), files: [] };
    const r = resolve({ server: 'https://flag', token: 't' }, empty);
    expect(r).to.deep.include({ context: '', clusterName: '', userName: '', namespace: 'default' });
    expect(r.user.token).to.equal('t');
    const noUser = merged({
      clusters: { c: { server: 'https://c' } },
      contexts: { main: { cluster: 'c', user: 'ghost' } },
    });
    expect(resolve({}, noUser).userName).to.equal('ghost');
    expect(Object.values(resolve({}, noUser).user).filter((v) => v !== undefined)).to.deep.equal([]);
  });

  it("TLS flags: a CA or --insecure-skip-tls-verify replaces the kubeconfig's checks; --server drops its tls-server-name", () => {
    expect(resolve({ insecureSkipTlsVerify: true }).cluster).to.deep.include({
      insecureSkipTlsVerify: true,
      certificateAuthority: undefined,
    });
    expect(resolve({ context: 'other', certificateAuthority: 'ca.pem' }).cluster).to.deep.include({
      insecureSkipTlsVerify: false,
      certificateAuthority: '/cwd/ca.pem',
    });
    expect(resolve({ server: 'https://flag' }).cluster).to.deep.include({
      server: 'https://flag',
      tlsServerName: undefined,
    });
    expect(resolve({ server: 'https://flag', tlsServerName: 'n' }).cluster.tlsServerName).to.equal('n');
    expect(resolve().cluster.tlsServerName).to.equal('api.main');
  });

  it('credential flags: --token over the token, a client certificate file over the data', () => {
    expect(resolve({ token: 'flag' }).user.token).to.equal('flag');
    const u = resolve({ context: 'other', clientCertificate: 'c.crt', clientKey: '/k.key' }).user;
    expect(u).to.deep.include({
      clientCertificate: '/cwd/c.crt',
      clientCertificateData: undefined,
      clientKey: '/k.key',
      clientKeyData: undefined,
    });
  });

  it('refuses what kubectl refuses: two auth methods, a certificate without a key, a CA given twice', () => {
    const m = (user: Fields, cluster: Fields = { server: 'https://c' }) =>
      merged({
        clusters: { c: cluster },
        users: { u: user },
        contexts: { main: { cluster: 'c', user: 'u' } },
      });
    expect(() => resolve({}, m({ token: 't', username: 'a', password: 'b' }))).to.throw(
      /token and a username/,
    );
    expect(() => resolve({}, m({ 'client-certificate': '/c' }))).to.throw(/without a client key/);
    expect(() =>
      resolve(
        {},
        m({}, { server: 'https://c', 'certificate-authority': '/a', 'certificate-authority-data': 'eA==' }),
      ),
    ).to.throw(/both certificate-authority and certificate-authority-data/);
  });

  it("impersonation: --as over the user's `as`; the file's groups stay unless --as-group is given", () => {
    expect(resolve().impersonate).to.deep.equal({ user: 'from-file', groups: ['file-group'], extra: {} });
    expect(resolve({ as: 'alice' }).impersonate).to.deep.equal({
      user: 'alice',
      groups: ['file-group'],
      extra: {},
    });
    expect(resolve({ as: 'alice', asGroups: ['a', 'b'], asUid: '42' }).impersonate).to.deep.equal({
      user: 'alice',
      uid: '42',
      groups: ['a', 'b'],
      extra: {},
    });
    expect(resolve({ context: 'other' }).impersonate).to.equal(undefined);
    expect(() => resolve({ context: 'other', asGroups: ['g'] })).to.throw(/impersonate no user/);
  });

  it('--request-timeout: whole seconds or a Go duration; 0 means none', () => {
    expect(parseRequestTimeout('0')).to.equal(undefined);
    expect(parseRequestTimeout('30')).to.equal(30_000);
    expect(parseRequestTimeout('1m30s')).to.equal(90_000);
    expect(parseRequestTimeout('1.5s')).to.equal(1500);
    expect(parseRequestTimeout('250ms')).to.equal(250);
    expect(resolve({ requestTimeout: '2h' }).requestTimeoutMs).to.equal(7_200_000);
    for (const bad of ['', 'soon', '10x', '-1s', '1s '])
      expect(() => parseRequestTimeout(bad), bad).to.throw(/--request-timeout/);
  });
});
