// One node:http server for every emulated service, routed by the first path segment.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context.ts';
import { handleControl } from './control-api.ts';
import { json, requestScope, type EmuRequest, type EmuResponse, type FrontEnd, type ServiceName } from './http.ts';

const MAX_BODY = 4 * 1024 * 1024;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class EmulatorServer {
  readonly #ctx: EmulatorContext;
  readonly #frontEnds = new Map<string, FrontEnd>();
  readonly #servers: Server[] = [];
  /** service -> base URL of its own port (--service-ports) */
  readonly #servicePorts = new Map<ServiceName, string>();

  constructor(ctx: EmulatorContext, frontEnds: FrontEnd[]) {
    this.#ctx = ctx;
    for (const f of frontEnds) this.#frontEnds.set(f.prefix.slice(1), f);
  }

  #newServer(fixed?: FrontEnd): Server {
    const server = createServer((req, res) => {
      this.#serve(req, res, fixed).catch((e: unknown) => {
        this.#ctx.logger?.error({ err: e }, 'emulator request failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal emulator error' }));
        } else res.destroy();
      });
    });
    server.keepAliveTimeout = 5_000;
    this.#servers.push(server);
    return server;
  }

  /** The shared server: every service below its prefix, plus the control API under /_emulator. */
  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.#newServer(), host, port);
  }

  /** One service alone on its own port, at the real service's root paths (official clients sign or build those). */
  async listenService(service: ServiceName, host: string, port: number): Promise<string> {
    const fe = [...this.#frontEnds.values()].find((f) => f.service === service);
    if (!fe) throw new Error(`no front-end for ${service}`);
    const addr = await listenOn(this.#newServer(fe), host, port);
    const url = `http://${hostPart(addr)}:${addr.port}`;
    this.#servicePorts.set(service, url);
    return url;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  #svcResolver(base: string, fixed: FrontEnd | undefined): (service: ServiceName) => string {
    return (service) => {
      const own = fixed ? this.#servicePorts.get(service) : undefined;
      if (own) return own;
      const fe = [...this.#frontEnds.values()].find((f) => f.service === service);
      return `${base}${fe?.prefix ?? ''}`;
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse, fixed?: FrontEnd): Promise<void> {
    const rawUrl = req.url ?? '/';
    const host = req.headers.host ?? '127.0.0.1';
    const base = `http://${host}`;
    const url = new URL(rawUrl, base);
    const qi = rawUrl.indexOf('?');
    const rawPathFull = qi >= 0 ? rawUrl.slice(0, qi) : rawUrl;
    const rawQuery = qi >= 0 ? rawUrl.slice(qi + 1) : '';
    const first = fixed ? '' : (rawPathFull.split('/')[1] ?? '');
    const body = await readBody(req);
    const send = (r: EmuResponse): void => {
      const headers = { ...r.headers };
      if (r.body !== undefined && r.body !== '' && !('content-type' in headers)) headers['content-type'] = 'application/json';
      res.writeHead(r.status, headers);
      res.end(r.status === 204 || r.status === 304 || req.method === 'HEAD' ? undefined : r.body);
    };
    if (body === undefined) return send(json(413, { error: 'request body too large' }));
    const path = fixed ? url.pathname : url.pathname.slice(first.length + 1) || '/';
    const emuReq: EmuRequest = { method: req.method ?? 'GET', url, path, rawPath: rawPathFull, rawQuery, headers: req.headers, body, base, svc: this.#svcResolver(base, fixed), raw: req };

    if (!fixed && first === '_emulator') return send(handleControl(this.#ctx, emuReq));
    if (!fixed && first === '' && emuReq.method === 'GET') {
      return send(json(200, { emulator: 'stack-operator', prefixes: [...this.#frontEnds.values()].map((f) => ({ service: f.service, prefix: f.prefix })), servicePorts: Object.fromEntries(this.#servicePorts) }));
    }
    const fe = fixed ?? this.#frontEnds.get(first);
    if (!fe) return send(json(404, { error: `no emulated service at /${first}` }));
    await this.#dispatch(fe, emuReq, req, send);
  }

  async #dispatch(fe: FrontEnd, emuReq: EmuRequest, req: IncomingMessage, send: (r: EmuResponse) => void): Promise<void> {
    const { control } = this.#ctx;
    const op = fe.operation(emuReq);
    control.countRequest(fe.service, op);
    this.#ctx.logger?.debug({ service: fe.service, op, method: emuReq.method, path: emuReq.rawPath }, 'emulator request');

    const fault = control.matchFault(fe.service, op);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs ?? 5_000);
    const latency = control.latencyFor(fe.service);
    if (latency > 0) await delay(latency);
    if (fault?.kind === 'error') return send(fe.serverError(emuReq, fault.status ?? 500));
    let extra: Record<string, string> = {};
    if (fe.limited?.(op) ?? true) {
      const t = control.takeToken(fe.service);
      if (t.waitMs > 0) return send(fe.throttled(emuReq, Math.max(1, Math.ceil(t.waitMs / 1000)), t.limit));
      if (t.limit > 0 && fe.rateLimitHeaders) extra = fe.rateLimitHeaders(t.limit, t.remaining);
    }
    // hide-new: stacks this request creates stay out of GET / list for delayMs (eventual consistency).
    const hideMs = fault?.kind === 'hide-new' ? (fault.delayMs ?? 5_000) : 0;
    const r = await requestScope.run({ hideNewForMs: hideMs }, () => fe.handle(emuReq));
    // reset-after: the request took effect, then the reply is lost (connection reset, nothing sent).
    if (fault?.kind === 'reset-after') {
      req.socket.resetAndDestroy();
      return;
    }
    r.headers = { ...extra, ...r.headers };
    send(r);
  }
}

function hostPart(addr: AddressInfo): string {
  return addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
}

function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
