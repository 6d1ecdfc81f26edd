// Entry point of src/kube for the CLI, imported lazily so `--help` does not load the client.
import { loadKubeConfig, type KubeTarget } from './config.js';
import { KubeCluster } from './facade.js';
import type { ClusterPort } from '../core/cluster.js';

export interface Connection {
  cluster: ClusterPort;
  context: string;
  namespace: string;
}

export function connect(target: KubeTarget): Connection {
  const loaded = loadKubeConfig(target);
  return { cluster: new KubeCluster(loaded.kc), context: loaded.context, namespace: loaded.namespace };
}
