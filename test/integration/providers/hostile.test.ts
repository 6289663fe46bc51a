// Hostile or careless endpoints (issue 14 items 4 and 5, issue 13 item 10, issue 20 item 1), each a
// loopback server written here: error bodies that echo the request (credentials must not come
// back in the message), HTML error pages, a 2 GiB body, one byte every few seconds, 429 with
// Retry-After forever, a private CA, a CONNECT proxy, and plain http:// endpoints.
import { connect as netConnect, createServer as createNet, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttp, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import { ProviderError, type StackProviderClient } from '../../../src/providers/types.ts';
import { json, makeTestCa, startHttp, startHttps, type Handler, type Loopback, type Recorded } from './loopback.ts';

const logger = pino({ level: 'silent' });
const common = { rateLimit: { qps: 1000, burst: 1000 } };
const AK = { accessKeyId: 'AKIDhostile0000000001', secret: 'hostile-secret-value-0001', securityToken: 'hostile-sts-token-0001' };

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
async function serve(handler: Handler): Promise<Loopback> {
  const s = await startHttp(handler);
  open.push(s);
  return s;
}
function track(client: StackProviderClient): StackProviderClient {
  open.push(client);
  return client;
}

/** Everything the request carried, as an echoing service (or proxy) would put in its error. */
function echo(r: Recorded): string {
  return `${r.method} ${r.url.pathname}${r.url.search} ${JSON.stringify(r.headers)} ${r.body}`;
}

const configs: Record<string, (url: string) => ResolvedProviderConfig> = {
  ros: (url) => ({ ...common, allowPlainHTTP: true, key: 'p/ros@1', type: 'ros', ros: { endpoint: url, regionId: 'cn-h' }, credentials: AK }),
  'ros HMAC-SHA1': (url) => ({ ...common, allowPlainHTTP: true, key: 'p/ros1@1', type: 'ros', ros: { endpoint: url, regionId: 'cn-h', signatureVersion: 'HMAC-SHA1' }, credentials: AK }),
  rfs: (url) => ({ ...common, allowPlainHTTP: true, key: 'p/rfs@1', type: 'rfs', rfs: { endpoint: url, region: 'h-1', projectId: '0a1b2c3d4e5f4a5b8c9d0e1f2a3b4c5d' }, credentials: AK }),
  heat: (url) => ({
    ...common,
    allowPlainHTTP: true,
    key: 'p/heat@1',
    type: 'heat',
    heat: { authUrl: `${url}/v3`, projectName: 'demo' },
    credentials: { username: 'hostile-user-0001', password: 'hostile-password-0001' },
  }),
  cloudfoundry: (url) => ({
    ...common,
    allowPlainHTTP: true,
    key: 'p/cf@1',
    type: 'cloudfoundry',
    cloudFoundry: { apiUrl: `${url}/cf`, uaaUrl: `${url}/uaa`, spaceGuid: 's' },
    credentials: { clientId: 'hostile-client-0001', clientSecret: 'hostile-client-secret-0001' },
  }),
};
/** The provider's own error body shape, with the echo in its message field. */
const errorBody: Record<string, (msg: string) => unknown> = {
  ros: (m) => ({ RequestId: 'r', Code: 'InvalidParameter', Message: m }),
  'ros HMAC-SHA1': (m) => ({ RequestId: 'r', Code: 'InvalidParameter', Message: m }),
  rfs: (m) => ({ error_code: 'RF.10011001', error_msg: m }),
  heat: (m) => ({ error: { code: 400, title: 'Bad Request', message: m } }),
  cloudfoundry: (m) => ({ errors: [{ code: 10008, title: 'CF-UnprocessableEntity', detail: m }] }),
};

describe('error messages never carry credentials or raw bodies', () => {
  it.each(Object.keys(configs))('%s: a service echoing the request in its error message', async (name) => {
    const s = await serve((r, res) => json(res, 400, errorBody[name]!(echo(r))));
    const config = configs[name]!(s.url);
    const client = track(createProviderClient(config, { logger, http: { maxAttempts: 1 } }));
    const e = await rejection(client.checkConnection());
    expect(s.requests.length).toBeGreaterThan(0);
    expect(e.message).toContain('[redacted]'); // the echo did arrive
    const sent = s.requests.flatMap((r) => [r.headers['authorization'], r.headers['x-auth-token'], r.headers['x-acs-security-token'], r.headers['x-security-token']]);
    const credentialValues: unknown[] = Object.values(config.credentials);
    for (const v of [...credentialValues, ...sent]) {
      if (typeof v === 'string' && v.length >= 4) expect(e.message).not.toContain(v);
    }
  });

  it.each(Object.keys(configs))('%s: an HTML error page becomes a status line', async (name) => {
    const s = await serve((r, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>Bad Gateway</h1><pre>${echo(r)}</pre></body></html>`);
    });
    const client = track(createProviderClient(configs[name]!(s.url), { logger, http: { maxAttempts: 1 } }));
    const e = await rejection(client.checkConnection());
    expect(e.kind).toBe('Transient');
    expect(e.message).toBe('HTTP 502 (text/html body not shown)');
  });
});

describe('bounded provider I/O', () => {
  it('a 2 GiB body is cut at the cap and refused; the server stops being read and memory stays bounded', async () => {
    const total = 2 * 1024 ** 3;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const server: Server = createHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const before = process.memoryUsage().rss;
    const client = track(createProviderClient(configs['ros']!(url), { logger, http: { maxAttempts: 1, maxBodyBytes: 1024 * 1024 } }));
    const e = await rejection(client.checkConnection());
    expect(e).toMatchObject({ kind: 'Transient', code: 'ResponseTooLarge' });
    expect(e.message).toMatch(/larger than 1048576 bytes/);
    expect(written).toBeLessThan(256 * 1024 ** 2); // socket buffers only: nowhere near 2 GiB
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 ** 2);
  });

  it('one byte every 2 s: the total request deadline ends the call', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 2000);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    });
    open.push({ close: () => timers.forEach((t) => clearInterval(t)) });
    const client = track(createProviderClient(configs['rfs']!(s.url), { logger, http: { maxAttempts: 1, requestTimeoutMs: 1000, bodyTimeoutMs: 60_000 } }));
    const e = await rejection(client.checkConnection());
    expect(e).toMatchObject({ kind: 'Transient', code: 'RequestTimeout' });
  });

  it('429 with Retry-After forever: Throttled with a bounded retryAfterMs, no in-call sleep, no hammering', async () => {
    const s = await serve((_r, res) => json(res, 429, { RequestId: 'r', Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' }, { 'retry-after': '31536000' }));
    const client = track(createProviderClient(configs['ros']!(s.url), { logger, http: { maxAttempts: 5 } }));
    const first = await rejection(client.checkConnection());
    expect(first.kind).toBe('Throttled');
    expect(first.retryAfterMs).toBe(15 * 60_000); // capped: a year is not honoured
    expect(s.requests).toHaveLength(1); // the wait is above the in-call bound: no retry, no sleep
    const second = await rejection(client.checkConnection());
    expect(second).toMatchObject({ kind: 'Throttled', code: 'ClientRateLimited' });
    expect(s.requests).toHaveLength(1); // the shared bucket is paused: nothing sent
  });
});

describe('TLS: caBundle adds a private CA to the system roots', () => {
  it('a server signed by a test CA is trusted with caBundle, refused without', async () => {
    const ca = makeTestCa();
    const s = await startHttps(ca, (_r, res) => json(res, 200, { RequestId: 'r', Stacks: [] }));
    open.push(s);
    const base = configs['ros']!(s.url);
    const withCa = track(createProviderClient({ ...base, allowPlainHTTP: false, tls: { caBundle: ca.caPem } }, { logger, http: { maxAttempts: 1 } }));
    await withCa.checkConnection();
    const without = track(createProviderClient({ ...base, key: 'p/ros-noca@1', allowPlainHTTP: false }, { logger, http: { maxAttempts: 1 } }));
    const e = await rejection(without.checkConnection());
    expect(e.kind).toBe('Transient');
    expect(e.message).toMatch(/certificate|self.signed|issuer/i);
  });
});

/** A minimal CONNECT proxy: counts tunnels, pipes bytes. */
async function connectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: NetServer = createNet((client) => {
    sockets.add(client);
    client.once('data', (head) => {
      const line = head.toString('latin1').split('\r\n')[0] ?? '';
      const m = /^CONNECT (127\.0\.0\.1):(\d+) HTTP\/1\.[01]$/.exec(line);
      if (!m) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n'); // loopback targets only
      tunnels.push(`${m[1]}:${m[2]}`);
      const upstream = netConnect(Number(m[2]), m[1], () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () => new Promise<void>((r) => { sockets.forEach((x) => x.destroy()); server.close(() => r()); }),
  };
}

describe('egress proxy from the environment (HTTPS_PROXY / NO_PROXY)', () => {
  const saved = { HTTPS_PROXY: process.env['HTTPS_PROXY'], NO_PROXY: process.env['NO_PROXY'], https_proxy: process.env['https_proxy'], no_proxy: process.env['no_proxy'] };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('goes through the CONNECT proxy with the same TLS settings, and bypasses it for NO_PROXY hosts', async () => {
    const ca = makeTestCa();
    const s = await startHttps(ca, (_r, res) => json(res, 200, { RequestId: 'r', Stacks: [] }));
    open.push(s);
    const proxy = await connectProxy();
    open.push(proxy);
    delete process.env['https_proxy'];
    delete process.env['no_proxy'];
    process.env['HTTPS_PROXY'] = proxy.url;
    process.env['NO_PROXY'] = '';
    const config = { ...configs['ros']!(s.url), allowPlainHTTP: false, tls: { caBundle: ca.caPem } };
    const proxied = track(createProviderClient(config, { logger, http: { maxAttempts: 1 } }));
    await proxied.checkConnection();
    expect(proxy.tunnels).toEqual([new URL(s.url).host]);
    expect(s.requests).toHaveLength(1);

    process.env['NO_PROXY'] = '127.0.0.1';
    const direct = track(createProviderClient({ ...config, key: 'p/ros-direct@1' }, { logger, http: { maxAttempts: 1 } }));
    await direct.checkConnection();
    expect(proxy.tunnels).toHaveLength(1); // bypassed
    expect(s.requests).toHaveLength(2);
  });
});

describe('plain http:// endpoints (spec.allowPlainHTTP)', () => {
  it.each(Object.keys(configs))('%s: refused with Invalid unless allowPlainHTTP is set', async (name) => {
    const s = await serve((_r, res) => json(res, 200, {}));
    const { allowPlainHTTP: _allowed, ...config } = configs[name]!(s.url);
    let err: unknown;
    try {
      track(createProviderClient(config, { logger }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'Invalid', code: 'PlainHTTPRefused' });
    expect((err as Error).message).toMatch(/allowPlainHTTP: true/);
    expect(s.requests).toHaveLength(0);
  });

  it('an http:// endpoint found later (Keystone catalog) is refused too', async () => {
    const ca = makeTestCa();
    const s = await startHttps(ca, (_r, res) =>
      json(res, 201, { token: { expires_at: new Date(Date.now() + 3600_000).toISOString(), project: { id: 'p1' }, catalog: [{ type: 'orchestration', endpoints: [{ interface: 'public', url: 'http://127.0.0.1:9/v1/p1' }] }] } }, { 'x-subject-token': 'tok-0001' }),
    );
    open.push(s);
    const config: ResolvedProviderConfig = { ...configs['heat']!(s.url), allowPlainHTTP: false, tls: { caBundle: ca.caPem } };
    const client = track(createProviderClient(config, { logger, http: { maxAttempts: 1 } }));
    expect(await rejection(client.checkConnection())).toMatchObject({ kind: 'Invalid', code: 'PlainHTTPRefused' });
  });
});
