// A stand-in API server over TLS that records who asked for what. The kubeconfig e2e tests point
// kubectl and kubectl-pvmove at it and compare where each request went (the server URL's path
// prefix, the namespace) and with which credentials (bearer token, client certificate,
// impersonation headers, each header line as sent). It answers just enough for `kubectl get
// configmap NAME` to reach its namespaced GET (discovery of the core group) and for the plugin's
// access check (every SelfSubjectAccessReview is allowed); everything else is 404.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface Recorded {
  /** The server URL's path, e.g. "/case/c1" for https://127.0.0.1:PORT/case/c1. */
  prefix: string;
  method: string;
  /** The API path after the prefix: "/api/v1/namespaces/x/configmaps/y". */
  apiPath: string;
  namespace?: string;
  userAgent: string;
  /** "token:T", "cert:CN", "basic:USER" joined with "+", or "anonymous". */
  credential: string;
  /** Impersonate-* header lines, in the order sent: "Impersonate-Group: a". */
  impersonation: string[];
}

export interface FakeApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  /** The server's self-signed certificate, to use as certificate-authority. */
  caFile: string;
  /** A name the certificate is also valid for, to test tls-server-name. */
  altName: string;
  requests: Recorded[];
  /** A self-signed client certificate with this common name: files in `dir`. */
  clientCert(name: string): { cert: string; key: string };
  close(): Promise<void>;
}

const ALT_NAME = 'fake-apiserver.test';

function selfSigned(dir: string, name: string, san?: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  args.push('-days', '2', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert);
  if (san) args.push('-addext', `subjectAltName=${san}`);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { cert, key };
}

const json = (code: number, body: unknown) => ({ code, body: JSON.stringify(body) });

function answer(method: string, apiPath: string, body: string): { code: number; body: string } {
  if (apiPath === '/api')
    return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  if (apiPath === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  if (apiPath === '/api/v1') {
    const configmaps = { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap' };
    return json(200, {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [{ ...configmaps, verbs: ['get', 'list'], shortNames: ['cm'] }],
    });
  }
  if (method === 'POST' && apiPath.endsWith('/selfsubjectaccessreviews')) {
    const review = JSON.parse(body || '{}') as { spec?: unknown };
    return json(201, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: review.spec,
      status: { allowed: true },
    });
  }
  return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
}

function credentialOf(req: IncomingMessage): string {
  const parts: string[] = [];
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Bearer ')) parts.push(`token:${auth.slice(7)}`);
  if (auth.startsWith('Basic '))
    parts.push(`basic:${Buffer.from(auth.slice(6), 'base64').toString().split(':')[0]}`);
  const peer = (req.socket as TLSSocket).getPeerCertificate?.();
  if (peer?.subject?.CN) parts.push(`cert:${peer.subject.CN}`);
  return parts.join('+') || 'anonymous';
}

export async function startFakeApiServer(dir: string): Promise<FakeApiServer> {
  const server = selfSigned(dir, 'fake-apiserver', `IP:127.0.0.1,DNS:localhost,DNS:${ALT_NAME}`);
  const clients = new Map<string, { cert: string; key: string }>();
  const requests: Recorded[] = [];
  const srv = https.createServer(
    {
      cert: readFileSync(server.cert),
      key: readFileSync(server.key),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://x');
        const m = /^(.*?)(\/apis?(?:\/.*)?)$/.exec(url.pathname);
        const prefix = m ? m[1]! : url.pathname;
        const apiPath = m ? m[2]! : '';
        const impersonation: string[] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i]!;
          if (/^impersonate-/i.test(name))
            impersonation.push(`${name.toLowerCase()}: ${req.rawHeaders[i + 1]}`);
        }
        const ns = /\/namespaces\/([^/]+)\//.exec(apiPath)?.[1];
        requests.push({
          prefix,
          method: req.method ?? 'GET',
          apiPath,
          ...(ns ? { namespace: ns } : {}),
          userAgent: req.headers['user-agent'] ?? '',
          credential: credentialOf(req),
          impersonation,
        });
        const a = answer(req.method ?? 'GET', apiPath, body);
        res.writeHead(a.code, { 'Content-Type': 'application/json' }).end(a.body);
      });
    },
  );
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile: server.cert,
    altName: ALT_NAME,
    requests,
    clientCert(name) {
      let c = clients.get(name);
      if (!c) {
        c = selfSigned(dir, name);
        clients.set(name, c);
        // Clients (Go's crypto/tls) only send a certificate its CertificateRequest accepts.
        srv.setSecureContext({
          cert: readFileSync(server.cert),
          key: readFileSync(server.key),
          ca: [...clients.values()].map((x) => readFileSync(x.cert)),
        });
      }
      return c;
    },
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}
