// Entry point of src/kube for the CLI, imported lazily so `--help` does not load the client.
import { loadKubeConfig, type KubeTarget, type TargetSummary } from './config.js';
import { KubeCluster } from './facade.js';
import { countRequests, DEBUG_REQUESTS_ENV, type RequestTally } from './request-counter.js';
import type { ClusterPort } from '../core/cluster.js';

export type { KubeTarget, TargetSummary } from './config.js';

export interface Connection {
  cluster: ClusterPort;
  context: string;
  namespace: string;
  /** The context, cluster, server, user (and impersonation) and namespace, as kubectl would use them. */
  target: TargetSummary;
  /** Set with PVMOVE_DEBUG_REQUESTS=1: the API requests sent so far. */
  requests?: RequestTally;
}

export function connect(target: KubeTarget): Connection {
  const loaded = loadKubeConfig(target);
  const env = target.env ?? process.env;
  const requests = env[DEBUG_REQUESTS_ENV] === '1' ? countRequests(loaded.kc) : undefined;
  return {
    cluster: new KubeCluster(loaded.kc),
    context: loaded.context,
    namespace: loaded.namespace,
    target: loaded.target,
    ...(requests ? { requests } : {}),
  };
}
