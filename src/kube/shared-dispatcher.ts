// @kubernetes/client-node builds a new undici Agent for every request (KubeConfig.createDispatcher,
// called from applySecurityAuthentication), so no connection is ever reused: every request pays a
// TLS handshake and leaves a connection with its own TLS context behind until the garbage collector
// finds the Agent. A batch of 50 claims makes some 12,000 requests; their native memory, outside the
// JavaScript heap, was what made its peak RSS grow with the number of claims. Here one Agent serves
// every request while the TLS material stays the same (an exec plugin may rotate a client
// certificate: then a new Agent takes over and the old one closes after its requests finish).
import { createHash } from 'node:crypto';
import type * as https from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

type DispatcherFactory = (cluster: Cluster | null, options: https.AgentOptions) => Dispatcher | undefined;

/** Makes `kc` reuse one dispatcher (and so its keep-alive connections) across requests. */
export function shareDispatchers(kc: KubeConfig): void {
  // A private method of the client (pinned in package-lock.json); test/unit/shared-dispatcher.test.ts
  // fails if an upgrade renames it.
  const client = kc as unknown as { createDispatcher?: DispatcherFactory };
  const create = client.createDispatcher;
  if (typeof create !== 'function') return;
  let current: { key: string; dispatcher: Dispatcher | undefined } | undefined;
  client.createDispatcher = (cluster, options) => {
    const key = createHash('sha256')
      .update(JSON.stringify(kc.createDispatcherOptions(cluster, options)))
      .digest('hex');
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: create.call(kc, cluster, options) };
    previous?.close().catch(() => undefined);
    return current.dispatcher;
  };
}
