// Hands the resolved kubeconfig (src/kube/kubeconfig-resolve.ts) to @kubernetes/client-node as a
// one-context config, so the client never applies its own merge rules, and adds what the client
// lacks: impersonation headers (kubectl's --as, --as-group, --as-uid and the kubeconfig's as-*
// fields) and kubectl's per-request --request-timeout, on every request.
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { Impersonation, ResolvedKubeconfig } from './kubeconfig-resolve.js';
import { shareDispatchers } from './shared-dispatcher.js';

/** The headers kubectl sends to impersonate: one line per group and per extra value. */
export function impersonationHeaders(i: Impersonation): Array<[string, string]> {
  const out: Array<[string, string]> = [['Impersonate-User', i.user]];
  if (i.uid) out.push(['Impersonate-Uid', i.uid]);
  for (const g of i.groups) out.push(['Impersonate-Group', g]);
  for (const [key, values] of Object.entries(i.extra)) {
    // Header names are case-insensitive, so the key travels percent-encoded (as kubectl does).
    const name = `Impersonate-Extra-${encodeURIComponent(key)}`;
    for (const v of values) out.push([name, v]);
  }
  return out;
}

function flatHeaders(headers: unknown): string[] {
  if (Array.isArray(headers)) return headers.map(String);
  const out: string[] = [];
  if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined) out.push(k, String(one));
    }
  }
  return out;
}

/**
 * fetch joins repeated header names into one line ("a, b"), which the API server would read as one
 * group named "a, b"; so the lines are added below fetch, where each stays its own line.
 */
function withHeaders(base: Dispatcher, lines: Array<[string, string]>): Dispatcher {
  return base.compose((dispatch) => (opts, handler) => {
    const given = flatHeaders(opts.headers);
    const kept: string[] = [];
    for (let i = 0; i + 1 < given.length; i += 2) {
      if (!/^impersonate-/i.test(given[i]!)) kept.push(given[i]!, given[i + 1]!);
    }
    return dispatch({ ...opts, headers: [...kept, ...lines.flat()] }, handler);
  });
}

export function clientConfigFor(r: ResolvedKubeconfig): KubeConfig {
  // Names the client uses only to link the three entries; what is shown to users is r's.
  const cluster: Cluster = {
    name: 'cluster',
    server: r.cluster.server,
    skipTLSVerify: r.cluster.insecureSkipTlsVerify,
    ...(r.cluster.certificateAuthority ? { caFile: r.cluster.certificateAuthority } : {}),
    ...(r.cluster.certificateAuthorityData ? { caData: r.cluster.certificateAuthorityData } : {}),
    ...(r.cluster.tlsServerName ? { tlsServerName: r.cluster.tlsServerName } : {}),
    ...(r.cluster.proxyUrl ? { proxyUrl: r.cluster.proxyUrl } : {}),
  };
  const u = r.user;
  // kubectl: a token wins over a token file; an Authorization header already set (token, basic)
  // keeps an auth-provider from adding its own, and any of token, basic or client certificate keeps
  // the exec plugin from running at all.
  const tokenFile =
    !u.token && u.tokenFile ? { name: 'tokenFile', config: { tokenFile: u.tokenFile } } : undefined;
  const header = !!(u.token || tokenFile || u.username || u.password);
  const staticAuth = header || !!(u.clientCertificate || u.clientCertificateData);
  const user: User = {
    name: 'user',
    ...(u.token ? { token: u.token } : {}),
    ...(u.clientCertificate ? { certFile: u.clientCertificate } : {}),
    ...(u.clientCertificateData ? { certData: u.clientCertificateData } : {}),
    ...(u.clientKey ? { keyFile: u.clientKey } : {}),
    ...(u.clientKeyData ? { keyData: u.clientKeyData } : {}),
    ...(u.username ? { username: u.username } : {}),
    ...(u.username || u.password ? { password: u.password ?? '' } : {}),
    ...(tokenFile
      ? { authProvider: tokenFile }
      : !header && u.authProvider
        ? { authProvider: u.authProvider }
        : {}),
    ...(!staticAuth && u.exec ? { exec: u.exec } : {}),
  };
  const context: Context = { name: 'context', cluster: 'cluster', user: 'user', namespace: r.namespace };
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [user], contexts: [context], currentContext: 'context' });
  shareDispatchers(kc);

  const lines = r.impersonate ? impersonationHeaders(r.impersonate) : [];
  const timeoutMs = r.requestTimeoutMs;
  if (lines.length > 0 || timeoutMs !== undefined) {
    // Every generated API call passes through this per-request hook.
    const original = kc.applySecurityAuthentication.bind(kc);
    kc.applySecurityAuthentication = async (ctx) => {
      await original(ctx);
      if (lines.length > 0)
        ctx.setDispatcher(withHeaders(ctx.getDispatcher() ?? getGlobalDispatcher(), lines));
      if (timeoutMs !== undefined) {
        const own = ctx.getSignal();
        const limit = AbortSignal.timeout(timeoutMs);
        ctx.setSignal(own ? AbortSignal.any([own, limit]) : limit);
      }
    };
  }
  return kc;
}
