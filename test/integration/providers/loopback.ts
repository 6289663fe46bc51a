// Small loopback HTTP(S) servers for adapter tests: they record what the adapter put on the wire
// and answer as a test tells them to (including hostile answers). Loopback only, closed by the test.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse) => void;

export interface Loopback {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

function listen(server: Server, scheme: 'http' | 'https', requests: Recorded[]): Promise<Loopback> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function recorder(handler: Handler, requests: Recorded[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://loopback'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      handler(rec, res);
    });
  };
}

export function startHttp(handler: Handler): Promise<Loopback> {
  const requests: Recorded[] = [];
  return listen(createHttp(recorder(handler, requests)), 'http', requests);
}

export interface TestCa {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl, in a temp dir). */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'so-ca-'));
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=stack-operator test CA']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
    const ext = join(dir, 'ext.cnf');
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`]);
    run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', ext]);
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return { caPem: read('ca.pem'), certPem: read('srv.pem'), keyPem: read('srv.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function startHttps(ca: TestCa, handler: Handler): Promise<Loopback> {
  const requests: Recorded[] = [];
  return listen(createHttps({ cert: ca.certPem, key: ca.keyPem }, recorder(handler, requests)), 'https', requests);
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
