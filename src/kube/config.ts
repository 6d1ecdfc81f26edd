// The user's own kubeconfig, loaded the way kubectl does: --kubeconfig, else KUBECONFIG (several
// files merged), else ~/.kube/config, else in-cluster. Auth plugins (exec, OIDC, token, certs) are
// handled by @kubernetes/client-node.
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../core/errors.js';

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

export interface LoadedConfig {
  kc: KubeConfig;
  context: string;
  /** The context's namespace, or "default": what kubectl would use without -n. */
  namespace: string;
}

export function loadKubeConfig(t: KubeTarget): LoadedConfig {
  const kc = new KubeConfig();
  try {
    if (t.kubeconfig) kc.loadFromFile(t.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(
      `cannot load kubeconfig ${t.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}: ${(err as Error).message}`,
      'Pass --kubeconfig FILE or set KUBECONFIG.',
    );
  }
  if (t.context) {
    if (!kc.getContextObject(t.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `context ${t.context} not found in the kubeconfig (known: ${known.join(', ') || 'none'})`,
        'Pass one of those with --context.',
      );
    }
    kc.setCurrentContext(t.context);
  }
  const context = kc.getCurrentContext();
  if (!kc.getCurrentCluster()) {
    throw new UsageError(
      `the kubeconfig has no cluster for context ${context || '(none)'}`,
      'Pass --context NAME.',
    );
  }
  const namespace = kc.getContextObject(context)?.namespace || 'default';
  return { kc, context, namespace };
}
