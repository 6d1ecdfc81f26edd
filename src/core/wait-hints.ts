// Why a wait is not over yet, in words a user can act on: shown when a wait times out.
import type { ClusterPort } from './cluster.js';
import type { Pod } from './types.js';

/** Why the copy pod is not running yet: unschedulable, image pull failures. */
export async function copyPodHint(
  cluster: { getPod(ns: string, name: string): Promise<Pod | undefined> },
  ns: string,
  name: string,
): Promise<string | undefined> {
  const pod = await cluster.getPod(ns, name);
  if (!pod) return `copy pod ${name} not found`;
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return `copy pod ${name} is not scheduled: ${sched.message ?? sched.reason ?? 'unknown reason'}`;
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting) return `copy pod ${name} is waiting: ${waiting.reason ?? ''} ${waiting.message ?? ''}`.trim();
  return `copy pod ${name} is ${pod.status?.phase ?? 'in an unknown phase'}`;
}

/** Why a claim does not bind, from its events: the newest Warning (ProvisioningFailed...), else the newest. */
export async function claimEventsHint(
  cluster: Pick<ClusterPort, 'listEvents'>,
  ns: string,
  name: string,
): Promise<string | undefined> {
  const events = await cluster.listEvents(ns, 'PersistentVolumeClaim', name).catch(() => []);
  const e = [...events].reverse().find((x) => x.type === 'Warning') ?? events[events.length - 1];
  return e ? `claim ${name}: ${e.reason ?? 'event'}: ${e.message ?? ''}`.trim() : undefined;
}
