import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { clientConfigFor } from '../../src/kube/kubeconfig-client.js';
import { shareDispatchers } from '../../src/kube/shared-dispatcher.js';
import type { ResolvedKubeconfig } from '../../src/kube/kubeconfig-resolve.js';

/** A local API server stand-in that counts the TCP connections its requests arrive on. */
async function server() {
  let connections = 0;
  const srv = http.createServer((_req, res) =>
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"items":[]}'),
  );
  srv.on('connection', () => connections++);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))),
  };
}

const resolved = (server: string): ResolvedKubeconfig => ({
  context: 'main',
  clusterName: 'main',
  userName: 'admin',
  namespace: 'team',
  cluster: { server, insecureSkipTlsVerify: true },
  user: { token: 'secret' },
});

describe('shared dispatcher: one connection pool for all requests of a run', () => {
  it('client-node still has the private createDispatcher this relies on', () => {
    expect(typeof (new KubeConfig() as unknown as { createDispatcher?: unknown }).createDispatcher).to.equal(
      'function',
    );
  });

  // A connection goes back to the pool a moment after its response was read, so two sequential
  // requests may alternate between two connections; what matters is that the count stays put.
  it('sequential requests reuse keep-alive connections instead of one connection each', async () => {
    const s = await server();
    try {
      const core = clientConfigFor(resolved(s.url)).makeApiClient(CoreV1Api);
      for (let i = 0; i < 10; i++) await core.listNamespacedPod({ namespace: 'team' });
      expect(s.connections()).to.be.within(1, 2);
    } finally {
      await s.close();
    }
  });

  it('without it, client-node opens a connection per request (what the sharing fixes)', async () => {
    const s = await server();
    try {
      const kc = new KubeConfig();
      kc.loadFromClusterAndUser(
        { name: 'c', server: s.url, skipTLSVerify: true },
        { name: 'u', token: 'secret' },
      );
      const core = kc.makeApiClient(CoreV1Api);
      for (let i = 0; i < 3; i++) await core.listNamespacedPod({ namespace: 'team' });
      expect(s.connections()).to.equal(3);
      shareDispatchers(kc);
      for (let i = 0; i < 10; i++) await core.listNamespacedPod({ namespace: 'team' });
      expect(s.connections()).to.be.within(4, 5);
    } finally {
      await s.close();
    }
  });
});
