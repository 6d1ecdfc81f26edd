// Watches that wake a wait early (WaitOptions.wakeOn): a change to one of the objects makes the
// wait's probe look at once instead of up to a second later, which is time the application is down
// for in the waits around the copy. The watch only says "look now": the probe, a plain read, still
// decides, so a watch that stalls, ends or is refused (no watch permission) costs nothing but the
// early look (pv-migrate#274 is a CLI that trusted a stalled watch and hung).
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { WatchTarget } from '../core/cluster.js';
import type { Waker } from './wait.js';

const PATHS: Record<WatchTarget['kind'], { group: string; plural: string; namespaced: boolean }> = {
  Pod: { group: '/api/v1', plural: 'pods', namespaced: true },
  PersistentVolumeClaim: { group: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true },
  PersistentVolume: { group: '/api/v1', plural: 'persistentvolumes', namespaced: false },
  Deployment: { group: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  StatefulSet: { group: '/apis/apps/v1', plural: 'statefulsets', namespaced: true },
  ReplicaSet: { group: '/apis/apps/v1', plural: 'replicasets', namespaced: true },
};

/** The list path and field selector a target is watched with. */
export function watchRequest(t: WatchTarget): { path: string; query: Record<string, string> } {
  const p = PATHS[t.kind];
  const ns = p.namespaced && t.namespace ? `/namespaces/${encodeURIComponent(t.namespace)}` : '';
  return {
    path: `${p.group}${ns}/${p.plural}`,
    query: t.name ? { fieldSelector: `metadata.name=${t.name}` } : {},
  };
}

export function watchWaker(kc: KubeConfig, targets: readonly WatchTarget[]): Waker {
  return (poke) => {
    let stopped = false;
    const controllers: AbortController[] = [];
    for (const t of targets) {
      const { path, query } = watchRequest(t);
      new Watch(kc)
        .watch(
          path,
          query,
          () => poke(),
          () => undefined, // ended or failed: the polls go on
        )
        .then((c) => (stopped ? c.abort() : controllers.push(c)))
        .catch(() => undefined);
    }
    return () => {
      stopped = true;
      for (const c of controllers) c.abort();
    };
  };
}
