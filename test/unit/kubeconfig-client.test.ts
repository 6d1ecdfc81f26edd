import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { clientConfigFor, impersonationHeaders } from '../../src/kube/kubeconfig-client.js';
import type { ResolvedKubeconfig } from '../../src/kube/kubeconfig-resolve.js';

/** A local server that records each request's header lines and answers after `delayMs`. */
async function recorder(delayMs = 0) {
  const seen: string[][] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.rawHeaders);
    setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"items":[]}'), delayMs);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))),
  };
}

const resolved = (server: string, extra: Partial<ResolvedKubeconfig> = {}): ResolvedKubeconfig => ({
  context: 'main',
  clusterName: 'main',
  userName: 'admin',
  namespace: 'team',
  cluster: { server, insecureSkipTlsVerify: true },
  user: { token: 'secret' },
  ...extra,
});

const lines = (raw: string[]) =>
  raw.flatMap((v, i) =>
    i % 2 === 0 && /^(impersonate-|authorization)/i.test(v) ? [`${v.toLowerCase()}: ${raw[i + 1]}`] : [],
  );

describe('kubeconfig client: the resolved config handed to client-node', () => {
  it('impersonation headers: one line per group and per extra value, the extra key percent-encoded', () => {
    expect(
      impersonationHeaders({
        user: 'alice',
        uid: '42',
        groups: ['a', 'b'],
        extra: { 'acme.io/team': ['x', 'y'] },
      }),
    ).to.deep.equal([
      ['Impersonate-User', 'alice'],
      ['Impersonate-Uid', '42'],
      ['Impersonate-Group', 'a'],
      ['Impersonate-Group', 'b'],
      ['Impersonate-Extra-acme.io%2Fteam', 'x'],
      ['Impersonate-Extra-acme.io%2Fteam', 'y'],
    ]);
  });

  it('sends the token and every impersonation line on each request (fetch would join repeated names)', async () => {
    const s = await recorder();
    try {
      const kc = clientConfigFor(
        resolved(s.url, {
          impersonate: { user: 'system:serviceaccount:ns:sa', groups: ['g1', 'g2'], extra: {} },
        }),
      );
      const core = kc.makeApiClient(CoreV1Api);
      await core.listNamespacedPod({ namespace: 'team' });
      await core.listNamespacedPod({ namespace: 'team' });
      expect(s.seen).to.have.length(2);
      for (const raw of s.seen) {
        expect(lines(raw)).to.deep.equal([
          'authorization: Bearer secret',
          'impersonate-user: system:serviceaccount:ns:sa',
          'impersonate-group: g1',
          'impersonate-group: g2',
        ]);
      }
    } finally {
      await s.close();
    }
  });

  it('--request-timeout limits each request', async () => {
    const s = await recorder(1000);
    try {
      const core = clientConfigFor(resolved(s.url, { requestTimeoutMs: 100 })).makeApiClient(CoreV1Api);
      const started = Date.now();
      const err = await core.listNamespacedPod({ namespace: 'team' }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).to.equal('TimeoutError');
      expect(Date.now() - started).to.be.below(900);
    } finally {
      await s.close();
    }
  });

  it("a token or client certificate wins over the user's exec plugin (kubectl does not run it then)", () => {
    const exec = { command: 'login', args: [], apiVersion: 'client.authentication.k8s.io/v1' };
    const withToken = clientConfigFor(resolved('https://x', { user: { token: 't', exec } })).getCurrentUser();
    expect(withToken).to.deep.include({ token: 't' });
    expect(withToken?.exec).to.equal(undefined);
    const withCert = { clientCertificateData: 'Yw==', clientKeyData: 'aw==', exec };
    expect(clientConfigFor(resolved('https://x', { user: withCert })).getCurrentUser()?.exec).to.equal(
      undefined,
    );
    const withExec = clientConfigFor(resolved('https://x', { user: { exec } })).getCurrentUser();
    expect(withExec?.exec).to.deep.equal(exec);
    const tokenFile = clientConfigFor(resolved('https://x', { user: { tokenFile: '/t' } })).getCurrentUser();
    expect(tokenFile?.authProvider).to.deep.equal({ name: 'tokenFile', config: { tokenFile: '/t' } });
  });
});
