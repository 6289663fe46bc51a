// One tenant cannot slow or crash another (tenant-safety issue, item 4). A tenant points StackProviders
// at hostile loopback servers — a body that never ends (gigabytes), one byte every 2 s, 429 with a
// Retry-After of an hour, forever — and creates enough Stacks on them to occupy every worker. Another
// tenant's Stack on a healthy provider must still become Ready within the stated bound: two request
// deadlines (a worker is held at most one deadline per call) plus its own create time; with the 3 s
// deadline used here, 20 s. The operator's memory must stay bounded (bodies are capped).
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRegistry } from '../../../src/providers/index.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from '../stacks/harness.ts';

const servers: Server[] = [];
async function hostile(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/identity/v3`;
}

const timers = new Set<NodeJS.Timeout>();
let env: OperatorEnv;
let urls: Record<string, string>;

beforeAll(async () => {
  urls = {
    // Headers, then an endless body: 1 MiB chunks as fast as the client reads them.
    endless: await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
      };
      res.on('drain', pump);
      pump();
    }),
    // Headers, then one byte every 2 s, forever.
    drip: await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 2000);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    }),
    // Throttled forever, with an hour's Retry-After.
    throttle: await hostile((_req, res) => {
      res.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/json' }).end('{"error":{"code":429,"message":"slow down"}}');
    }),
  };
  env = await startOperatorEnv({
    providers: ['heat'],
    operator: {
      maxConcurrentReconciles: 4,
      providerClients: new ProviderRegistry({ logger: silentLogger, http: { requestTimeoutMs: 3000, maxBodyBytes: 4 * 1024 * 1024 } }),
    },
  });
}, 120_000);

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await env?.stop();
});

describe('a hostile tenant next to a healthy one', () => {
  it("the healthy tenant's Stack is Ready within the bound; the hostile ones end in a clear condition; memory stays bounded", async () => {
    const heat = env.emu.credentials.keystone;
    for (const [kind, url] of Object.entries(urls)) {
      await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${kind}-creds` }, stringData: { username: 'u', password: 'p' } });
      await env.apply({
        apiVersion: 'stackoperator.dev/v1alpha1',
        kind: 'StackProvider',
        metadata: { name: kind },
        spec: { heat: { authUrl: url, region: heat.region, projectName: 'p', credentialsSecretRef: { name: `${kind}-creds` } }, pollInterval: '200ms', allowPlainHTTP: true },
      });
    }
    const rss0 = process.memoryUsage().rss;
    // Twelve hostile Stacks for four workers.
    for (let i = 0; i < 12; i++) {
      const kind = Object.keys(urls)[i % 3] as string;
      const m = stackManifest(`noisy-${i}`, 'heat', { template: { inline: hot('n') } });
      m.spec.providerRef = { name: kind } as never;
      await env.apply(m);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    await env.apply(stackManifest('quiet', 'heat', { template: { inline: hot('q') } }));
    await env.waitStack('quiet', isReady, 'Ready next to the hostile tenant', 20_000);
    const took = Date.now() - started;
    expect(took, `Ready after ${took} ms`).toBeLessThan(20_000);

    // The hostile Stacks end in a clear, bounded state: never Ready, a reason, a message without the body.
    for (let i = 0; i < 3; i++) {
      const s = await env.waitStack(`noisy-${i}`, (x) => cond(x, 'Ready')?.status === 'False' && (cond(x, 'Ready')?.message.length ?? 0) > 0, 'a condition', 30_000);
      expect(cond(s, 'Ready')?.message.length).toBeLessThanOrEqual(1024);
    }
    const grown = process.memoryUsage().rss - rss0;
    expect(grown, `RSS grew by ${Math.round(grown / 1048576)} MiB`).toBeLessThan(300 * 1024 * 1024);
  });
});
