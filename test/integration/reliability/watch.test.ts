// T9: a silently dead watch. The in-process operator reaches the apiserver through a loopback TCP proxy
// that can black-hole the established connections (bytes are swallowed, nothing is closed, no RST), as
// a NAT / conntrack entry that silently disappears does; new connections work. A spec change made
// meanwhile (straight to the apiserver) is picked up once the informer's watchdog notices the silence
// and re-watches on a new connection. Without the watchdog the dead watch would only end at its
// server-side timeout (5-10 min), which never arrives through a black hole.
import { type Server, Socket, createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InformerOptions } from '../../../src/runtime/informer.ts';
import type { KubeObject } from '../../../src/runtime/kube-client.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { type Operator, buildOperator } from '../../../src/stacks/operator.ts';
import { testKubeconfigPath } from '../../env/kube.ts';
import { hot, isReady, stackManifest } from '../stacks/harness.ts';
import { type RelEnv, sleep, startRelEnv } from './env.ts';

/** A TCP proxy that can swallow all traffic without closing anything. */
class BlackHoleProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<{ a: Socket; b: Socket; dead: boolean }>();
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => {
      const upstream = new Socket();
      const pair = { a: client, b: upstream, dead: false };
      this.#pairs.add(pair);
      const drop = () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('data', (d: Buffer) => {
        if (!pair.dead) upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (!pair.dead) client.write(d);
      });
      client.on('close', drop);
      upstream.on('close', () => {
        // A dead connection stays open on the client side: the peer never learns.
        if (!pair.dead) drop();
      });
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      upstream.connect(this.#target.port, this.#target.host);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  /** Every established connection goes silent for good (the client must give up on it). */
  blackHole(): number {
    for (const p of this.#pairs) p.dead = true;
    return this.#pairs.size;
  }
  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.a.destroy();
      p.b.destroy();
    }
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** A Manager whose informers use a short watchdog. */
class ShortWatchdogManager extends Manager {
  override informer<T extends KubeObject>(opts: InformerOptions<T>) {
    return super.informer<T>({ ...opts, watchdogMs: 2_000 });
  }
}

let env: RelEnv;
let proxy: BlackHoleProxy;
let manager: Manager;
let operator: Operator;
let running: Promise<void>;
let dir: string;

beforeAll(async () => {
  env = await startRelEnv({ kubeconfig: testKubeconfigPath(), providers: ['heat'], prefix: 'rel-watch' });
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  proxy = new BlackHoleProxy({ host: server.hostname, port: Number(server.port) });
  await proxy.listen();
  dir = mkdtempSync(join(tmpdir(), 'rel-watch-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, readFileSync(env.kubeconfig, 'utf8').replaceAll(server.origin, `https://127.0.0.1:${proxy.port}`));
  const pkc = new KubeConfig();
  pkc.loadFromFile(file);
  // Short request timeouts: a request on a black-holed connection fails fast and is retried.
  const client = new KubeClient(pkc, { timeoutMs: 3_000 });
  manager = new ShortWatchdogManager({ kubeConfig: pkc, client, log: process.env.T9_DEBUG ? (await import('../../../src/runtime/logging.ts')).createLogger({ level: 'debug' }) : silentLogger, metrics: false, probes: false });
  operator = buildOperator(manager, { namespaces: [env.ns], pollIntervalMs: 200, readCacheMs: 0, backoff: { baseMs: 100, capMs: 2000 } });
  running = manager.start();
  running.catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  await running?.catch(() => undefined);
  await operator?.close();
  await proxy?.close();
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('T9: a black-holed watch is restarted by the watchdog and the change made meanwhile is applied', async () => {
  await env.apply(stackManifest('silent', 'heat', { template: { inline: hot('s') }, parameters: { message: 'one' } }));
  await env.waitStack('silent', isReady, 'Ready');
  await sleep(500);
  const restartsBefore = operator.stacks.stats.watchdogRestarts;
  const holed = proxy.blackHole();
  expect(holed, 'the watches are established connections').toBeGreaterThan(0);
  await env.apply(stackManifest('silent', 'heat', { template: { inline: hot('s') }, parameters: { message: 'two' } }));
  const s = await env
    .waitStack('silent', (x) => isReady(x) && x.status?.outputs?.message === 'two', 'change applied after the watchdog restart', 30_000)
    .catch((err: unknown) => {
      throw new Error(`${String(err)}\ninformer stats: ${JSON.stringify(operator.stacks.stats)} (watchdog restarts before: ${restartsBefore})`);
    });
  expect(s.status?.lastAppliedGeneration).toBe(2);
  expect(operator.stacks.stats.watchdogRestarts).toBeGreaterThan(restartsBefore);
  expect(env.counts('heat', 'silent')).toMatchObject({ create: 1, update: 1 });
});
