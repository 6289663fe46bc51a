// HTTP endpoints: /metrics (prom-client default registry), /healthz (liveness), /readyz (readiness),
// with named checks like controller-runtime's healthz package: `/readyz?verbose` lists each check,
// `/readyz/<name>` runs one. A check fails by returning false or throwing; each has a 5 s bound.
// Liveness should stay cheap and local (never fail it on apiserver errors).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { silentLogger, type Logger } from './logging.ts';

export type Check = () => boolean | void | Promise<boolean | void>;

export interface ProbeServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Serve /metrics. Default true. */
  metrics?: boolean;
  /** Serve /healthz and /readyz. Default true. */
  probes?: boolean;
  checkTimeoutMs?: number;
  log?: Logger;
}

export class ProbeServer {
  readonly #health = new Map<string, Check>();
  readonly #ready = new Map<string, Check>();
  readonly #o: ProbeServerOptions;
  readonly #log: Logger;
  #server: Server | undefined;

  constructor(opts: ProbeServerOptions = {}) {
    this.#o = opts;
    this.#log = (opts.log ?? silentLogger).child({ component: 'probes' });
    this.#health.set('ping', () => true);
    this.#ready.set('ping', () => true);
  }

  addHealthCheck(name: string, check: Check): void {
    this.#health.set(name, check);
  }
  addReadyCheck(name: string, check: Check): void {
    this.#ready.set(name, check);
  }
  removeReadyCheck(name: string): void {
    this.#ready.delete(name);
  }

  /** The bound port (after listen). */
  get port(): number {
    const addr = this.#server?.address() as AddressInfo | null | undefined;
    return addr?.port ?? 0;
  }

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.error({ err }, 'probe handler failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 5_000;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port ?? 0, this.#o.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeIdleConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Runs the checks of a kind; returns ok and a per-check report. */
  async runChecks(kind: 'healthz' | 'readyz', only?: string): Promise<{ ok: boolean; lines: string[] }> {
    const checks = kind === 'healthz' ? this.#health : this.#ready;
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      if (only !== undefined && name !== only) continue;
      const r = await this.#runOne(check);
      if (r === true) lines.push(`[+]${name} ok`);
      else {
        ok = false;
        lines.push(`[-]${name} failed: ${r}`);
      }
    }
    if (only !== undefined && lines.length === 0) return { ok: false, lines: [`[-]${only} failed: no such check`] };
    return { ok, lines };
  }

  async #runOne(check: Check): Promise<true | string> {
    const timeoutMs = this.#o.checkTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        Promise.resolve().then(check),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
          timer.unref();
        }),
      ]);
      return r === false ? 'not ready' : true;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics' && this.#o.metrics !== false) {
      const body = await register.metrics();
      res.writeHead(200, { 'content-type': register.contentType }).end(body);
      return;
    }
    const m = /^\/(healthz|readyz|livez)(?:\/([^/]+))?$/.exec(path);
    if (m && this.#o.probes !== false) {
      const kind = m[1] === 'readyz' ? 'readyz' : 'healthz';
      const { ok, lines } = await this.runChecks(kind, m[2]);
      const verbose = url.searchParams.has('verbose') || !ok;
      const body = verbose ? `${lines.join('\n')}\n${kind} check ${ok ? 'passed' : 'failed'}\n` : 'ok';
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}
