// The runtime's Kubernetes client against a real API server, where it does what undici's fetch did for
// it before (kube-client.ts): inflate a gzipped LIST, and turn an error answer into an ApiException
// that errors.ts classifies, with the Status body and the headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { statusCode, statusReason } from '../../../src/runtime/errors.ts';
import { type ClusterConnection, KubeClient, type KubeList, resourcePath } from '../../../src/runtime/kube-client.ts';
import { deleteNamespace, testKubeConfig, uniqueNamespace } from '../../env/kube.ts';
import { CONFIGMAPS, configMap } from './util.ts';

const COUNT = 40;
const VALUE = 'x'.repeat(8 * 1024);

describe('KubeClient (shared apiserver)', () => {
  const client = new KubeClient(testKubeConfig());
  let ns = '';
  beforeAll(async () => {
    ns = await uniqueNamespace('kube-client');
    for (let i = 0; i < COUNT; i++) await client.create(CONFIGMAPS, ns, configMap(ns, `cm-${i}`, { v: VALUE }));
  });
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  });

  it('a LIST over 128 KB arrives gzipped and is read whole', async () => {
    // The oracle that the answer is compressed at all: the API server itself, asked the same way.
    const auth = await client.connection.authenticate();
    const raw = await request(`${client.connection.server}${resourcePath(CONFIGMAPS, ns)}`, {
      headers: { ...auth.headers, accept: 'application/json', 'accept-encoding': 'gzip' },
      dispatcher: auth.dispatcher(),
    });
    await raw.body.dump();
    expect(raw.headers['content-encoding']).toBe('gzip');

    const list = await client.list<{ metadata: { name: string }; data?: Record<string, string> }>(CONFIGMAPS, ns);
    expect(list.items).toHaveLength(COUNT);
    expect(list.items.every((cm) => cm.data?.['v'] === VALUE)).toBe(true);
  });

  it('a small GET, a 404 and a 409 come back as the API server sent them', async () => {
    const one = await client.get(CONFIGMAPS, ns, 'cm-0');
    expect(one.metadata.name).toBe('cm-0');
    const missing = await client.get(CONFIGMAPS, ns, 'no-such').catch((e: unknown) => e);
    expect(statusCode(missing)).toBe(404);
    expect(statusReason(missing)).toBe('NotFound');
    expect((missing as { headers: Record<string, string> }).headers['content-type']).toBe('application/json');
    const again = await client.create(CONFIGMAPS, ns, configMap(ns, 'cm-0')).catch((e: unknown) => e);
    expect(statusCode(again)).toBe(409);
    expect(statusReason(again)).toBe('AlreadyExists');
  });

  it('a list page with limit and continue reads on', async () => {
    const first = await client.list(CONFIGMAPS, ns, { limit: 25 });
    expect(first.items).toHaveLength(25);
    const rest: KubeList = await client.list(CONFIGMAPS, ns, { limit: 25, continue: first.metadata.continue });
    expect(rest.items).toHaveLength(COUNT - 25);
  });
});

// As a careless or hostile server would answer: a gzipped body that stops half way, or is cut off.
// The request must end with an error within its deadline, never hang (the inflater is fed through a
// pipeline, so the body's abort reaches it). A server on the loopback address, no API server needed.
describe('KubeClient and a gzipped answer that stalls or is cut off', () => {
  const gz = gzipSync(JSON.stringify({ kind: 'List', items: Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'y'.repeat(64) })) }));
  let server: Server | undefined;
  const serve = async (end: 'stall' | 'cut'): Promise<ClusterConnection> => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
      res.write(gz.subarray(0, Math.floor(gz.length / 2)));
      if (end === 'cut') res.socket?.destroy();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return { server: `http://127.0.0.1:${port}`, authenticate: () => Promise.resolve({ headers: {}, dispatcher: () => new Agent() }) };
  };
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('a body that stalls half way ends with the deadline', async () => {
    const client = new KubeClient(await serve('stall'), { timeoutMs: 500 });
    const err = await client.list(CONFIGMAPS, 'ns').catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    server?.closeAllConnections();
    server?.close();
  });

  it('a body cut off half way ends with an error', async () => {
    const client = new KubeClient(await serve('cut'), { timeoutMs: 10_000 });
    const err = await client.list(CONFIGMAPS, 'ns').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });
});

