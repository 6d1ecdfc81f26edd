// Access to the real test bed cluster for e2e tests: clients, a fresh namespace per test, and
// waits with named timeouts. Tests assert what a user would check, so they read objects and data
// back from the cluster itself; nothing here is mocked.
import * as k8s from '@kubernetes/client-node';
import { claimJournal, parseJournal, type Journal } from '../../src/core/journal.js';

export interface Cluster {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  storage: k8s.StorageV1Api;
  batch: k8s.BatchV1Api;
}

export function connect(): Cluster {
  const kc = new k8s.KubeConfig();
  if (!process.env.KUBECONFIG) {
    throw new Error('KUBECONFIG is not set: run the e2e tests through `npm test` (it starts the test bed)');
  }
  kc.loadFromDefault();
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    storage: kc.makeApiClient(k8s.StorageV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined; fails naming `what` on timeout. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(500);
  }
}

export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 404;
}

/** Creates a uniquely named namespace; `deleteNamespace` removes it and waits until it is gone. */
export async function createNamespace(c: Cluster, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(
    0,
    63,
  );
  await c.core.createNamespace({ body: { metadata: { name, labels: { 'pvmove-e2e': 'true' } } } });
  // Pods need the namespace's default ServiceAccount, which a controller creates asynchronously.
  await waitFor(`ServiceAccount default in ${name}`, 60_000, async () => {
    await c.core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  });
  return name;
}

export async function deleteNamespace(c: Cluster, name: string): Promise<void> {
  try {
    await c.core.deleteNamespace({ name });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await waitFor(`namespace ${name} to be deleted`, 180_000, async () => {
    try {
      await c.core.readNamespace({ name });
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  });
}

/**
 * PVs still pointing at a namespace (a retained source PV after a move, or a Delete PV its
 * provisioner is still reclaiming): deleted, and waited for until none is left, so a test's
 * "nothing left behind" check does not race the PV controller.
 */
export async function deleteVolumesOf(c: Cluster, namespace: string): Promise<string[]> {
  const volumesOf = async () =>
    (await c.core.listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === namespace);
  const mine = await volumesOf();
  for (const pv of mine) {
    await c.core.deletePersistentVolume({ name: pv.metadata!.name! }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  await waitFor(`PVs of namespace ${namespace} to be deleted`, 120_000, async () =>
    (await volumesOf()).length === 0 ? true : undefined,
  );
  return mine.map((pv) => pv.metadata!.name!);
}

/**
 * The claim's view of its migration's journal as a step sees it (the one named after the claim, or
 * a batch's that holds it), or undefined if there is none.
 */
export async function journalOf(c: Cluster, ns: string, claim: string): Promise<Journal | undefined> {
  const list = await c.core.listNamespacedConfigMap({
    namespace: ns,
    labelSelector: 'pvmove.kubectl.io/role=journal',
  });
  const docs = list.items
    .map((cm) => ({ name: cm.metadata?.name, text: cm.data?.['journal.json'] }))
    .filter((x) => x.text !== undefined)
    .map((x) => ({ name: x.name, doc: parseJournal(x.text!) }))
    .filter((x) => x.doc.claims.some((k) => k.name === claim));
  const own = docs.find((x) => x.name === `pvmove-${claim}`);
  const live = docs.find((x) => x.doc.phase !== 'rolled-back');
  const found = (own && own.doc.phase !== 'rolled-back' ? own : live) ?? own ?? docs[0];
  return found ? claimJournal(found.doc, claim) : undefined;
}
