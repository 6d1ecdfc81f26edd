// Flags shared by every command. kubectl passes everything after the plugin name through, so the
// plugin implements kubectl's connection flags itself (-n, --context, --kubeconfig, --as...), with
// kubectl's meaning and precedence (docs/kubeconfig.md).
import type { Argv } from 'yargs';
import type { InfoEvent } from '../core/events.js';
import type { KubeTarget, TargetSummary } from '../kube/config.js';
import { resolveOutput } from './render/index.js';
import type { Io, Renderer } from './render/types.js';
import type { OutputMode } from './request.js';

/** kubectl's connection flags as yargs hands them over. */
export interface KubeArgv {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  cluster?: string;
  user?: string;
  server?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  token?: string;
  as?: string;
  /** A string when given once, a list when repeated. */
  asGroup?: string | string[];
  asUid?: string;
  requestTimeout?: string;
}

export function withKubeFlags<T>(y: Argv<T>) {
  return (
    y
      .option('namespace', {
        alias: 'n',
        type: 'string',
        describe: "Namespace of the claim (default: the context's)",
      })
      .option('context', { type: 'string', describe: 'kubeconfig context to use' })
      .option('kubeconfig', {
        type: 'string',
        describe: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
      })
      .option('cluster', { type: 'string', describe: 'kubeconfig cluster to use' })
      .option('user', { type: 'string', describe: 'kubeconfig user to use' })
      .option('server', { alias: 's', type: 'string', describe: 'Address of the API server' })
      .option('tls-server-name', {
        type: 'string',
        describe: 'Server name to check the API server certificate against',
      })
      .option('insecure-skip-tls-verify', {
        type: 'boolean',
        describe: "Do not check the API server's certificate (insecure)",
      })
      .option('certificate-authority', { type: 'string', describe: 'CA certificate file for the API server' })
      .option('client-certificate', { type: 'string', describe: 'Client certificate file for TLS' })
      .option('client-key', { type: 'string', describe: 'Client key file for TLS' })
      .option('token', { type: 'string', describe: 'Bearer token for the API server' })
      .option('as', { type: 'string', describe: 'User or ServiceAccount to impersonate' })
      // Not `array: true`: an array option would swallow the claim that follows it.
      .option('as-group', { type: 'string', describe: 'Group to impersonate, repeatable' })
      .option('as-uid', { type: 'string', describe: 'UID to impersonate' })
      .option('request-timeout', {
        type: 'string',
        describe: 'Limit for each API request, e.g. 30s (default 0: none)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'auto (tree on a TTY, plain otherwise), tree, plain, or json (one event per line)',
        default: 'auto',
      })
      .option('yes', { alias: 'y', type: 'boolean', describe: 'Do not ask for confirmation on a terminal' })
  );
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());

/** The connection flags for src/kube, with the environment the kubeconfig is found through. */
export function kubeTarget(a: KubeArgv, env: NodeJS.ProcessEnv): KubeTarget {
  return {
    env,
    kubeconfig: a.kubeconfig,
    context: a.context,
    cluster: a.cluster,
    user: a.user,
    namespace: a.namespace,
    server: a.server,
    tlsServerName: a.tlsServerName,
    insecureSkipTlsVerify: a.insecureSkipTlsVerify,
    certificateAuthority: a.certificateAuthority,
    clientCertificate: a.clientCertificate,
    clientKey: a.clientKey,
    token: a.token,
    as: a.as,
    asGroups: list(a.asGroup),
    asUid: a.asUid,
    requestTimeout: a.requestTimeout,
  };
}

/**
 * The connection flags as given (but -n), repeated in every command the plugin prints, so the next
 * command acts on the same cluster as the same identity. A token is never printed: it would end up
 * in terminal scrollback and CI logs.
 */
export function connectionArgs(a: KubeArgv): string[] {
  const out: string[] = [];
  const flag = (name: string, value: string | undefined): void => {
    if (value) out.push(`--${name}`, value);
  };
  flag('context', a.context);
  flag('kubeconfig', a.kubeconfig);
  flag('cluster', a.cluster);
  flag('user', a.user);
  flag('server', a.server);
  flag('tls-server-name', a.tlsServerName);
  if (a.insecureSkipTlsVerify) out.push('--insecure-skip-tls-verify');
  flag('certificate-authority', a.certificateAuthority);
  flag('client-certificate', a.clientCertificate);
  flag('client-key', a.clientKey);
  flag('token', a.token ? '<token>' : undefined);
  flag('as', a.as);
  for (const g of list(a.asGroup)) flag('as-group', g);
  flag('as-uid', a.asUid);
  flag('request-timeout', a.requestTimeout);
  return out;
}

/** One line naming what the command acts on: "Acting on context prod: cluster prod at https://...". */
export function targetLine(t: TargetSummary): string {
  const details = [
    ...(t.asGroups?.length ? [`groups ${t.asGroups.join(', ')}`] : []),
    ...(t.asUid ? [`uid ${t.asUid}`] : []),
  ];
  const as = t.as ? ` impersonating ${t.as}${details.length ? ` (${details.join('; ')})` : ''}` : '';
  return (
    `Acting on context ${t.context || '(none)'}: cluster ${t.cluster || '(none)'} at ${t.server}, ` +
    `user ${t.user || '(none)'}${as}, namespace ${t.namespace}`
  );
}

/**
 * Names the target before anything else: an info event carrying `target` (-o json, plain lines),
 * or a line above the plan on a terminal (the task tree shows only step events).
 */
export function announceTarget(t: TargetSummary, renderer: Renderer, output: OutputMode, io: Io): void {
  const event: InfoEvent & { target: TargetSummary } = { type: 'info', message: targetLine(t), target: t };
  if (resolveOutput(output, io) === 'tree') io.stdout.write(`${event.message}\n`);
  else renderer.emit(event);
}
