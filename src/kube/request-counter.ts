// PVMOVE_DEBUG_REQUESTS=1: counts every HTTP request the client sends to the API server (retries
// included), by method and resource, so the cost of one migration can be measured and kept low.
// It hooks the KubeConfig's per-request authentication, which every generated API call passes
// through, so nothing in the facade needs to remember to count.
import type { KubeConfig } from '@kubernetes/client-node';

export const DEBUG_REQUESTS_ENV = 'PVMOVE_DEBUG_REQUESTS';

export class RequestTally {
  total = 0;
  readonly byKind = new Map<string, number>();

  add(method: string, url: string): void {
    this.total++;
    const key = `${method} ${resourceOf(url)}`;
    this.byKind.set(key, (this.byKind.get(key) ?? 0) + 1);
  }

  /** One line: `api-requests total=N GET/pods=..`, most frequent first. */
  summary(): string {
    const parts = [...this.byKind.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k.replace(' ', '/')}=${n}`);
    return `api-requests total=${this.total} ${parts.join(' ')}`.trim();
  }
}

/** "/api/v1/namespaces/x/pods/y/log?tailLines=40" -> "pods/log"; "/apis/apps/v1/.../statefulsets/db/scale" -> "statefulsets/scale". */
export function resourceOf(url: string): string {
  const p = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
  const start = p[0] === 'api' ? 2 : 3; // api/v1 | apis/group/version
  const rest = p.slice(start);
  if (rest[0] === 'namespaces' && rest.length > 2) rest.splice(0, 2);
  const resource = rest[0] ?? 'namespaces';
  const sub = rest[2];
  return sub ? `${resource}/${sub}` : resource;
}

export function countRequests(kc: KubeConfig): RequestTally {
  const tally = new RequestTally();
  const original = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    tally.add(String(context.getHttpMethod()), context.getUrl());
    return original(context);
  };
  return tally;
}
