// The claims of a batch look at the same namespace: the same pods, the same owners, the same
// StatefulSets. A claim's look reuses what another claim's look read less than `ttlMs` ago, so
// fifty claims do not each list every pod of the namespace at every step. A write that can change
// what is kept (pods, owners, StatefulSets) forgets everything read, so this process never decides
// from what it read before its own change; what others change is seen within `ttlMs`, no later
// than a poll would see it. Pod lists are shared when asked from the API server's cache (the
// looks); a consistent one, read right before acting, is always read.
import type { ClusterPort } from './cluster.js';

const SHARED = new Set([
  'listPods',
  'getOwnerState',
  'getStatefulSet',
  'getClaimTemplates',
  'getStorageClass',
]);
const READS = /^(get|list|read|missingPermissions|dryRun)/;
/** Writes that change nothing cached here (the journal, the locks, PV fields). */
const UNRELATED = /Journal$|Lease$|^patchPv$/;

/**
 * A pod list not asked from the API server's cache is what a step reads right before it acts on
 * "no pod uses the claim" (deleting a claim, starting the copy): never another claim's older read.
 */
function asksConsistent(prop: string, args: unknown[]): boolean {
  return prop === 'listPods' && (args[1] as { cached?: boolean } | undefined)?.cached !== true;
}

export function sharedReads(cluster: ClusterPort, ttlMs = 1500, now: () => number = Date.now): ClusterPort {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  return new Proxy(cluster, {
    get(target, prop, receiver) {
      const member = Reflect.get(target, prop, receiver) as unknown;
      if (typeof member !== 'function' || typeof prop !== 'string') return member;
      const fn = member as (...args: unknown[]) => unknown;
      if (SHARED.has(prop)) {
        return (...args: unknown[]) => {
          if (asksConsistent(prop, args)) return fn.apply(target, args);
          const key = `${prop}:${JSON.stringify(args)}`;
          const hit = cache.get(key);
          if (hit && now() - hit.at < ttlMs) return hit.value;
          const value = Promise.resolve(fn.apply(target, args));
          cache.set(key, { at: now(), value });
          value.catch(() => cache.delete(key));
          return value;
        };
      }
      if (READS.test(prop) || UNRELATED.test(prop) || prop === 'waitFor') return fn.bind(target);
      // A write: what was read before it may be what it changed.
      return (...args: unknown[]) => {
        cache.clear();
        const out = fn.apply(target, args);
        if (out instanceof Promise) void out.finally(() => cache.clear()).catch(() => undefined);
        return out;
      };
    },
  });
}
