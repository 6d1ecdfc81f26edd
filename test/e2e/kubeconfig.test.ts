// kubectl-pvmove acts on the context, cluster, user and namespace kubectl would use, with kubectl
// itself as the oracle (the test bed builds it: scripts/testbed/build.sh). For each kubeconfig
// setup, kubectl and the plugin run with the same environment and flags against a stand-in API
// server (test/helpers/fake-apiserver.ts) that records where each request went and with which
// credentials. The plugin's first `-o json` event names what it resolved; both must match what
// kubectl sent and what `kubectl config view --minify` names.
// Then, on the test bed, --as: the test bed's admin moves a claim as a ServiceAccount bound to
// deploy/rbac/clusterrole.yaml, and is refused (exit 2, nothing changed) as one without rights.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { expect } from 'chai';
import { runCli as runInProcess } from '../../src/cli/app.js';
import { Reported } from '../../src/cli/reported.js';
import { explain, runCli, type CliResult } from '../helpers/cli.js';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
} from '../helpers/cluster.js';
import { bindServiceAccount, deleteClusterRbac, shippedClusterRoleRules } from '../helpers/rbac.js';
import { createApp, expectMoved, snapshot } from '../helpers/safety.js';
import { startFakeApiServer, type FakeApiServer, type Recorded } from '../helpers/fake-apiserver.js';

const root = path.resolve(import.meta.dirname, '../..');
// The plugin runs in this process, so relative paths are relative to its working directory.
const cwd = process.cwd();

/** PVMOVE_KUBECTL, else the test bed's kubectl (built at the version the test bed runs). */
function kubectlBinary(): string {
  if (process.env.PVMOVE_KUBECTL) return process.env.PVMOVE_KUBECTL;
  const bin = execFileSync('bash', ['-c', 'source scripts/testbed/lib/common.sh && echo "$TB_BIN"'], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const built = path.join(bin, 'kubectl');
  if (!existsSync(built)) {
    throw new Error(`${built} is missing: run \`bash scripts/testbed/build.sh\` (or set PVMOVE_KUBECTL)`);
  }
  return built;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, events: [] }));
  });
}

/**
 * The plugin's CLI in this process (a separate Node per case would cost seconds each): the same
 * parsing and commands, with the case's environment as the CLI's.
 */
async function pvmove(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        add(String(chunk));
        done();
      },
    });
  const io = {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: new PassThrough(),
    env,
    signal: new AbortController().signal,
  };
  let code = 0;
  try {
    await runInProcess(args, io);
  } catch (err) {
    // By shape, not instanceof: the CLI loads src/kube lazily, which can be a second copy of the
    // error classes under the test runner's loader.
    const inner: unknown = err instanceof Reported ? err.inner : err;
    if (!(err instanceof Reported)) stderr += `${(inner as Error).message}\n`;
    const exitCode = (inner as { exitCode?: unknown }).exitCode;
    code = typeof exitCode === 'number' ? exitCode : 1;
  }
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, signal: null, stdout, stderr, events };
}

type Doc = Record<string, unknown>;

interface Case {
  name: string;
  /** Files under the case's directory (path -> kubeconfig document, or text). */
  files: Record<string, Doc | string>;
  /** KUBECONFIG entries, relative to the case's directory; unset: ~/.kube/config (home/.kube/config). */
  kubeconfig?: string[];
  /** Write KUBECONFIG entries relative to the working directory instead of absolute. */
  relativeEnv?: boolean;
  flags?: (dir: string) => string[];
  /** kubectl refuses this setup; the plugin must refuse it too (exit 2), sending nothing. */
  refused?: boolean;
}

interface Target {
  context: string;
  cluster: string;
  server: string;
  user: string;
  namespace: string;
}

describe('kubeconfig: the plugin resolves what kubectl resolves (kubectl as the oracle)', function () {
  let api: FakeApiServer;
  let base: string;
  let kubectl: string;

  before(async () => {
    kubectl = kubectlBinary();
    base = mkdtempSync(path.join(tmpdir(), 'pvmove-kubeconfig-'));
    api = await startFakeApiServer(base);
  });
  after(async () => {
    await api?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  // Entries whose server URL and token name the case and the entry, so a recorded request tells
  // which file's entry was used.
  const cluster = (c: string, name: string, id: string, extra: Doc = {}) => ({
    name,
    cluster: { server: `${api.url}/${c}/${id}`, 'insecure-skip-tls-verify': true, ...extra },
  });
  const user = (c: string, name: string, id: string, extra: Doc = {}) => ({
    name,
    user: { token: `${c}-${id}`, ...extra },
  });
  const context = (name: string, clusterName: string, userName: string, namespace?: string) => ({
    name,
    context: { cluster: clusterName, user: userName, ...(namespace ? { namespace } : {}) },
  });
  const config = (d: Doc) => ({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [],
    users: [],
    contexts: [],
    ...d,
  });

  function cases(): Case[] {
    const one = (c: string, current: string | undefined, ns?: string) =>
      config({
        clusters: [cluster(c, 'main', 'main'), cluster(c, 'other', 'other')],
        users: [user(c, 'admin', 'admin'), user(c, 'viewer', 'viewer')],
        contexts: [context('main', 'main', 'admin', ns), context('other', 'other', 'viewer', 'other-ns')],
        ...(current ? { 'current-context': current } : {}),
      });
    return [
      { name: 'home', files: { 'home/.kube/config': one('home', 'main', 'team') } },
      { name: 'no-namespace', files: { 'home/.kube/config': one('no-namespace', 'main') } },
      {
        name: 'first-sets-context',
        files: {
          'a.yaml': config({
            clusters: [cluster('first-sets-context', 'ca', 'ca')],
            users: [user('first-sets-context', 'ua', 'ua')],
            contexts: [context('ctx-a', 'ca', 'ua', 'from-a')],
            'current-context': 'ctx-a',
          }),
          'b.yaml': config({
            clusters: [cluster('first-sets-context', 'cb', 'cb')],
            users: [user('first-sets-context', 'ub', 'ub')],
            contexts: [context('ctx-b', 'cb', 'ub', 'from-b')],
            'current-context': 'ctx-b',
          }),
        },
        kubeconfig: ['b.yaml', 'a.yaml'],
      },
      {
        name: 'later-sets-context',
        files: {
          'a.yaml': one('later-sets-context', undefined, 'from-a'),
          'b.yaml': config({ 'current-context': 'main' }),
        },
        kubeconfig: ['a.yaml', 'b.yaml'],
      },
      {
        // Same names in both files: the first file's entries, whole (b's namespace is not merged in).
        name: 'duplicates',
        files: {
          'a.yaml': config({
            clusters: [cluster('duplicates', 'shared', 'from-a')],
            users: [user('duplicates', 'shared', 'from-a')],
            contexts: [context('shared', 'shared', 'shared')],
          }),
          'b.yaml': config({
            clusters: [cluster('duplicates', 'shared', 'from-b')],
            users: [user('duplicates', 'shared', 'from-b')],
            contexts: [context('shared', 'shared', 'shared', 'from-b')],
            'current-context': 'shared',
          }),
        },
        kubeconfig: ['a.yaml', 'b.yaml'],
      },
      {
        name: 'missing-file',
        files: { 'a.yaml': one('missing-file', 'main', 'team') },
        kubeconfig: ['gone.yaml', 'a.yaml', 'also-gone.yaml'],
      },
      {
        // Each file's relative paths resolve against its own directory; KUBECONFIG itself is relative
        // to the working directory. The cluster (in one/) checks the server with one/ca.crt under
        // its tls-server-name; the user (in two/) reads two/token.
        name: 'relative-paths',
        files: {
          'one/config': config({
            clusters: [
              {
                name: 'verified',
                cluster: {
                  server: `${api.url}/relative-paths/verified`,
                  'certificate-authority': 'ca.crt',
                  'tls-server-name': api.altName,
                },
              },
            ],
            users: [
              { name: 'cert', user: { 'client-certificate': 'client.crt', 'client-key': 'client.key' } },
            ],
            contexts: [
              context('file-token', 'verified', 'token-file', 'rel'),
              context('cert', 'verified', 'cert'),
            ],
            'current-context': 'file-token',
          }),
          'two/config': config({ users: [{ name: 'token-file', user: { tokenFile: 'token' } }] }),
          'two/token': 'relative-paths-two-token',
        },
        kubeconfig: ['one/config', 'two/config'],
        relativeEnv: true,
      },
      {
        name: 'relative-client-cert',
        files: {
          'one/config': config({
            clusters: [
              {
                name: 'verified',
                cluster: {
                  server: `${api.url}/relative-client-cert/verified`,
                  'certificate-authority': 'ca.crt',
                },
              },
            ],
            users: [
              { name: 'cert', user: { 'client-certificate': 'client.crt', 'client-key': 'client.key' } },
            ],
            contexts: [context('cert', 'verified', 'cert', 'certs')],
          }),
        },
        kubeconfig: ['one/config'],
        flags: () => ['--context', 'cert'],
      },
      {
        name: 'context-flag',
        files: { 'a.yaml': one('context-flag', 'main', 'team') },
        kubeconfig: ['a.yaml'],
        flags: () => ['--context', 'other'],
      },
      {
        name: 'namespace-flag',
        files: { 'a.yaml': one('namespace-flag', 'main', 'team') },
        kubeconfig: ['a.yaml'],
        flags: () => ['-n', 'picked'],
      },
      {
        name: 'namespace-flag-equals',
        files: { 'a.yaml': one('namespace-flag-equals', 'main') },
        kubeconfig: ['a.yaml'],
        flags: () => ['--namespace=picked', '--context=other'],
      },
      {
        // --kubeconfig: that file only, KUBECONFIG is not read.
        name: 'kubeconfig-flag',
        files: {
          'a.yaml': one('kubeconfig-flag', 'main', 'team'),
          'b.yaml': config({
            clusters: [cluster('kubeconfig-flag', 'main', 'explicit')],
            users: [user('kubeconfig-flag', 'admin', 'explicit')],
            contexts: [context('explicit', 'main', 'admin')],
            'current-context': 'explicit',
          }),
        },
        kubeconfig: ['a.yaml'],
        flags: (dir) => ['--kubeconfig', path.join(dir, 'b.yaml')],
      },
      {
        name: 'cluster-user-flags',
        files: { 'a.yaml': one('cluster-user-flags', 'main', 'team') },
        kubeconfig: ['a.yaml'],
        flags: () => ['--cluster', 'other', '--user', 'viewer'],
      },
      {
        // --server also clears the cluster's tls-server-name; --certificate-authority is relative
        // to the working directory; --token replaces the user's token.
        name: 'server-token-flags',
        files: { 'a.yaml': one('server-token-flags', 'main', 'team') },
        kubeconfig: ['a.yaml'],
        flags: () => [
          '--server',
          `${api.url}/server-token-flags/flag`,
          '--certificate-authority',
          path.relative(cwd, api.caFile),
          '--token',
          'server-token-flags-flag',
        ],
      },
      {
        name: 'impersonation-flags',
        files: {
          'a.yaml': config({
            clusters: [cluster('impersonation-flags', 'main', 'main')],
            users: [user('impersonation-flags', 'admin', 'admin', { as: 'from-kubeconfig' })],
            contexts: [context('main', 'main', 'admin', 'team')],
            'current-context': 'main',
          }),
        },
        kubeconfig: ['a.yaml'],
        flags: () => ['--as', 'alice', '--as-group', 'devs', '--as-group', 'ops', '--as-uid', '42'],
      },
      {
        name: 'impersonation-kubeconfig',
        files: {
          'a.yaml': config({
            clusters: [cluster('impersonation-kubeconfig', 'main', 'main')],
            users: [
              user('impersonation-kubeconfig', 'admin', 'admin', {
                as: 'carol',
                'as-groups': ['g1', 'g2'],
                'as-user-extra': { scopes: ['view', 'edit'] },
              }),
            ],
            contexts: [context('main', 'main', 'admin')],
            'current-context': 'main',
          }),
        },
        kubeconfig: ['a.yaml'],
      },
      {
        name: 'insecure-flag',
        files: {
          'a.yaml': config({
            // The CA is not the server's: --insecure-skip-tls-verify drops it, as kubectl does.
            clusters: [
              cluster('insecure-flag', 'main', 'main', {
                'insecure-skip-tls-verify': false,
                'certificate-authority': 'wrong-ca.crt',
              }),
            ],
            users: [user('insecure-flag', 'admin', 'admin')],
            contexts: [context('main', 'main', 'admin')],
            'current-context': 'main',
          }),
        },
        kubeconfig: ['a.yaml'],
        flags: () => ['--insecure-skip-tls-verify'],
      },
      {
        name: 'missing-context',
        files: { 'a.yaml': one('missing-context', 'main') },
        kubeconfig: ['a.yaml'],
        flags: () => ['--context', 'nope'],
        refused: true,
      },
      {
        name: 'missing-user',
        files: { 'a.yaml': one('missing-user', 'main') },
        kubeconfig: ['a.yaml'],
        flags: () => ['--user', 'nobody'],
        refused: true,
      },
      {
        name: 'duplicate-in-one-file',
        files: {
          'a.yaml': config({
            clusters: [
              cluster('duplicate-in-one-file', 'main', 'x'),
              cluster('duplicate-in-one-file', 'main', 'y'),
            ],
            users: [user('duplicate-in-one-file', 'admin', 'admin')],
            contexts: [context('main', 'main', 'admin')],
            'current-context': 'main',
          }),
        },
        kubeconfig: ['a.yaml'],
        refused: true,
      },
    ];
  }

  function setUp(c: Case): { dir: string; env: Record<string, string>; flags: string[] } {
    const dir = path.join(base, c.name);
    mkdirSync(path.join(dir, 'home'), { recursive: true });
    for (const [file, content] of Object.entries(c.files)) {
      const p = path.join(dir, file);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      // Certificates next to each kubeconfig, for its relative paths.
      copyFileSync(api.caFile, path.join(path.dirname(p), 'ca.crt'));
      const client = api.clientCert(`${c.name}-client`);
      copyFileSync(client.cert, path.join(path.dirname(p), 'client.crt'));
      copyFileSync(client.key, path.join(path.dirname(p), 'client.key'));
      copyFileSync(api.clientCert('wrong-ca').cert, path.join(path.dirname(p), 'wrong-ca.crt'));
    }
    const env: Record<string, string> = { HOME: path.join(dir, 'home'), PATH: process.env.PATH ?? '' };
    if (c.kubeconfig) {
      env.KUBECONFIG = c.kubeconfig
        .map((f) => (c.relativeEnv ? path.relative(cwd, path.join(dir, f)) : path.join(dir, f)))
        .join(path.delimiter);
    }
    return { dir, env, flags: c.flags?.(dir) ?? [] };
  }

  const flagValue = (flags: string[], name: string): string | undefined => {
    const i = flags.findIndex((f) => f === name || f.startsWith(`${name}=`));
    if (i < 0) return undefined;
    return flags[i]!.includes('=') ? flags[i]!.split('=')[1] : flags[i + 1];
  };

  const of = (c: Case, agent: RegExp): Recorded[] =>
    api.requests.filter((r) => r.prefix.startsWith(`/${c.name}/`) && agent.test(r.userAgent));

  it('matches kubectl on every setup of the matrix', async function () {
    const all = cases();
    const setups = new Map(all.map((c) => [c.name, setUp(c)]));
    const views = new Map<string, { get: CliResult; view: CliResult }>();
    for (const c of all) {
      const { env, flags } = setups.get(c.name)!;
      const get = await run(kubectl, ['get', 'configmap', 'probe', '--request-timeout=20s', ...flags], env);
      const jsonpath =
        'jsonpath={.current-context}|{.contexts[0].context.cluster}|{.contexts[0].context.user}|{.contexts[0].context.namespace}';
      const view = await run(kubectl, ['config', 'view', '--minify', '-o', jsonpath, ...flags], env);
      views.set(c.name, { get, view });
    }
    const results = new Map<string, CliResult>();
    for (const c of all) {
      const { env, flags } = setups.get(c.name)!;
      const args = ['data', '--to-class', 'fast', '--dry-run', '-o', 'json', ...flags];
      results.set(c.name, await pvmove(args, env));
    }

    const failures: string[] = [];
    for (const c of all) {
      const { get, view } = views.get(c.name)!;
      const { flags } = setups.get(c.name)!;
      const r = results.get(c.name)!;
      const kube = of(c, /^kubectl\//);
      const plugin = of(c, /kubernetes-client-javascript/);
      try {
        if (c.refused) {
          expect(kube, `kubectl sent nothing\n${get.stderr}`).to.deep.equal([]);
          expect(get.code, 'kubectl refused').to.not.equal(0);
          expect(r.code, explain(r)).to.equal(2);
          expect(plugin, 'the plugin sent nothing').to.deep.equal([]);
          continue;
        }
        const namespaced = kube.find((k) => k.namespace);
        expect(namespaced, `kubectl reached the namespaced GET\n${get.stderr}`).to.not.equal(undefined);
        const k = namespaced!;
        const [vContext, vCluster, vUser] = view.stdout.split('|');
        const target = r.events.find((e) => e.target)?.target as Target | undefined;
        expect(target, `the plugin names its target\n${explain(r)}`).to.not.equal(undefined);
        expect(target, 'context, cluster, user').to.include({
          context: vContext,
          // `config view` ignores --cluster/--user: there, kubectl uses the flag's entry.
          cluster: flagValue(flags, '--cluster') ?? vCluster,
          user: flagValue(flags, '--user') ?? vUser,
        });
        expect(target!.server, 'server').to.equal(`${api.url}${k.prefix}`);
        expect(target!.namespace, 'namespace').to.equal(k.namespace);
        expect(plugin.length, `the plugin sent requests\n${explain(r)}`).to.be.greaterThan(0);
        for (const p of plugin) {
          expect(p.prefix, `${p.method} ${p.apiPath}: server`).to.equal(k.prefix);
          expect(p.credential, `${p.method} ${p.apiPath}: credentials`).to.equal(k.credential);
          expect([...p.impersonation].sort(), `${p.method} ${p.apiPath}: impersonation`).to.deep.equal(
            [...k.impersonation].sort(),
          );
          if (p.namespace) expect(p.namespace, `${p.method} ${p.apiPath}: namespace`).to.equal(k.namespace);
        }
      } catch (err) {
        failures.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });
});

describe('--as: the plugin acts as the impersonated account, checked by its access preflight', function () {
  let c: Cluster;
  let ns: string;
  const role = `pvmove-e2e-as-${Date.now().toString(36)}`;

  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-as');
  });
  after(async () => {
    await deleteClusterRbac(c, [role]);
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('moves a claim as a ServiceAccount with the ClusterRole; refuses one without rights, changing nothing', async () => {
    const app = await createApp(c, ns);
    await c.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'no-rights' } } });
    await bindServiceAccount(c, ns, role, shippedClusterRoleRules());
    const as = (account: string) => ['--as', `system:serviceaccount:${ns}:${account}`];

    // The test bed's admin could do it all; as the account without rights, nothing is done.
    const before = await snapshot(c, ns);
    const refused = await runCli(['data', '--to-class', 'standard', '-n', ns, ...as('no-rights')]);
    expect(refused.code, explain(refused)).to.equal(2);
    const line = refused.stderr.trim().split('\n').pop() ?? '';
    expect(line, explain(refused)).to.match(/missing permissions: /);
    expect(line).to.match(/nothing was changed/i);
    expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);

    await waitFor('the RBAC binding to take effect', 30_000, async () => {
      const r = await runCli(['status', '-n', ns, ...as(role)]);
      return r.code === 0 ? true : undefined;
    });
    const r = await runCli(['data', '--to-class', 'standard', '-n', ns, '-o', 'json', ...as(role)]);
    expect(r.code, explain(r)).to.equal(0);
    expect(r.events.find((e) => e.target)?.target, 'the target names the account').to.include({
      as: `system:serviceaccount:${ns}:${role}`,
      namespace: ns,
    });
    await expectMoved(c, ns, app, 'standard');
    const cleanup = await runCli(['cleanup', 'data', '-n', ns, '--yes', ...as(role)]);
    expect(cleanup.code, explain(cleanup)).to.equal(0);
  });
});
