// One node:http server for every emulated service, routed by the first path segment.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context.ts';
import { handleControl } from './control-api.ts';
import { json, type EmuRequest, type EmuResponse, type FrontEnd } from './http.ts';

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
  readonly #server: Server;

  constructor(ctx: EmulatorContext, frontEnds: FrontEnd[]) {
    this.#ctx = ctx;
    for (const f of frontEnds) this.#frontEnds.set(f.prefix.slice(1), f);
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch((e: unknown) => {
        ctx.logger?.error({ err: e }, 'emulator request failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal emulator error' }));
        } else res.destroy();
      });
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const host = req.headers.host ?? '127.0.0.1';
    const base = `http://${host}`;
    const url = new URL(rawUrl, base);
    const qi = rawUrl.indexOf('?');
    const rawPathFull = qi >= 0 ? rawUrl.slice(0, qi) : rawUrl;
    const rawQuery = qi >= 0 ? rawUrl.slice(qi + 1) : '';
    const first = rawPathFull.split('/')[1] ?? '';
    const body = await readBody(req);
    const send = (r: EmuResponse): void => {
      const headers = { ...r.headers };
      if (r.body !== undefined && r.body !== '' && !('content-type' in headers)) headers['content-type'] = 'application/json';
      res.writeHead(r.status, headers);
      res.end(r.status === 204 || r.status === 304 || req.method === 'HEAD' ? undefined : r.body);
    };
    if (body === undefined) return send(json(413, { error: 'request body too large' }));
    const prefixLen = first.length + 1;
    const path = url.pathname.slice(prefixLen) || '/';
    const emuReq: EmuRequest = { method: req.method ?? 'GET', url, path, rawPath: rawPathFull, rawQuery, headers: req.headers, body, base, raw: req };

    if (first === '_emulator') return send(handleControl(this.#ctx, emuReq));
    if (first === '' && emuReq.method === 'GET') {
      return send(json(200, { emulator: 'stack-operator', prefixes: [...this.#frontEnds.values()].map((f) => ({ service: f.service, prefix: f.prefix })) }));
    }
    const fe = this.#frontEnds.get(first);
    if (!fe) return send(json(404, { error: `no emulated service at /${first}` }));
    const { control } = this.#ctx;
    const op = fe.operation(emuReq);
    control.countRequest(fe.service, op);
    this.#ctx.logger?.debug({ service: fe.service, op, method: emuReq.method, path: rawPathFull }, 'emulator request');

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
    const r = await fe.handle(emuReq);
    r.headers = { ...extra, ...r.headers };
    send(r);
  }
}
