// The manager end to end on the shared apiserver: informers + leader election + a controller +
// probes; /metrics scraped and every controller-runtime metric name asserted; graceful stop
// releases the Lease.
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitChange } from '../../../src/runtime/controller.ts';
import { KubeClient, type KubeObject } from '../../../src/runtime/kube-client.ts';
import { LEASE_RESOURCE, type Lease } from '../../../src/runtime/leader-election.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { deleteNamespace, testKubeConfig, uniqueNamespace } from '../../env/kube.ts';
import { CONFIGMAPS, configMap, waitFor } from './util.ts';

const kc = testKubeConfig();
const client = new KubeClient(kc);
let ns = '';

beforeAll(async () => {
  ns = await uniqueNamespace('rt-mgr');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

const METRICS = [
  'controller_runtime_reconcile_total',
  'controller_runtime_reconcile_errors_total',
  'controller_runtime_reconcile_time_seconds',
  'controller_runtime_max_concurrent_reconciles',
  'controller_runtime_active_workers',
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_retries_total',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
  'leader_election_master_status',
];

describe('Manager', () => {
  it('serves probes and metrics, reconciles while leading, and releases the lease on stop', async () => {
    await client.create(CONFIGMAPS, ns, configMap(ns, 'one', { a: '1' }));
    const mgr = new Manager({
      kubeConfig: kc,
      metrics: { port: 0, host: '127.0.0.1' },
      probes: { port: 0, host: '127.0.0.1' },
      leaderElection: { namespace: ns, name: 'rt-mgr-lock', identity: 'mgr-1', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 },
      gracefulShutdownMs: 5_000,
    });
    const inf = mgr.informer<KubeObject>({ resource: CONFIGMAPS, namespaces: [ns] });
    const seen: string[] = [];
    let failOnce = true;
    mgr
      .controller<null>({
        name: 'rt-mgr',
        context: null,
        maxConcurrentReconciles: 2,
        reconciler: async (key) => {
          seen.push(key);
          if (key.endsWith('/two') && failOnce) {
            failOnce = false;
            throw new Error('transient');
          }
          return awaitChange();
        },
      })
      .for(inf);
    const started = mgr.start();
    try {
      await waitFor('servers up', () => mgr.ports.length === 2 && mgr.ports.every((p) => p > 0));
      const [metricsPort, probePort] = mgr.ports;
      await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).status === 200);
      expect((await fetch(`http://127.0.0.1:${probePort}/healthz`)).status).toBe(200);
      const verbose = await (await fetch(`http://127.0.0.1:${probePort}/readyz?verbose`)).text();
      expect(verbose).toContain('[+]informers-synced ok');
      await waitFor('leading + reconciled', () => mgr.isLeader && seen.includes(`${ns}/one`));
      await client.create(CONFIGMAPS, ns, configMap(ns, 'two'));
      await waitFor('retried after error', () => seen.filter((k) => k === `${ns}/two`).length >= 2);

      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const name of METRICS) expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_sum|_count)?\\{`, 'm'));
      expect(text).toMatch(/^controller_runtime_reconcile_total\{controller="rt-mgr",result="success"\} [1-9]/m);
      expect(text).toMatch(/^controller_runtime_reconcile_total\{controller="rt-mgr",result="error"\} 1$/m);
      expect(text).toMatch(/^controller_runtime_reconcile_errors_total\{controller="rt-mgr"\} 1$/m);
      expect(text).toMatch(/^workqueue_retries_total\{name="rt-mgr",controller="rt-mgr"\} 1$/m);
      expect(text).toMatch(/^controller_runtime_max_concurrent_reconciles\{controller="rt-mgr"\} 2$/m);
      expect(text).toMatch(/^leader_election_master_status\{name="rt-mgr-lock"\} 1$/m);
      expect((await fetch(`http://127.0.0.1:${probePort}/metrics`)).status).toBe(404); // metrics only on its port
    } finally {
      await mgr.stop();
      await started;
    }
    const lease = await client.get<Lease>(LEASE_RESOURCE, ns, 'rt-mgr-lock');
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  });
});

describe('Manager metricsPrefix', () => {
  it("names the runtime's own metrics with the caller's prefix, not the product's", async () => {
    const mgr = new Manager({ kubeConfig: kc, metrics: { port: 0, host: '127.0.0.1' }, probes: false, metricsPrefix: 'rt_prefix_probe' });
    const inf = mgr.informer<KubeObject>({ resource: CONFIGMAPS, namespaces: [ns], name: 'rt-prefix' });
    const started = mgr.start();
    try {
      await waitFor('listed', () => inf.stats.lists >= 1 && mgr.ports.length === 1 && (mgr.ports[0] ?? 0) > 0);
      const text = await (await fetch(`http://127.0.0.1:${mgr.ports[0]}/metrics`)).text();
      expect(text).toMatch(/^rt_prefix_probe_informer_events_total\{resource="rt-prefix",event="list"\} 1$/m);
      expect(text).not.toMatch(/^stack_operator_informer_events_total\{resource="rt-prefix"/m);
    } finally {
      await mgr.stop();
      await started;
    }
  });
});

/** A loopback port that nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on the port (bounded: one attempt, 2 s). */
async function listening(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );
}

describe('Manager start failures leave nothing running (the process can exit)', () => {
  it('a probe port in use: start() rejects, the metrics server already listening is closed, no informer runs', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const metricsPort = await freePort();
    try {
      const mgr = new Manager({ kubeConfig: kc, metrics: { port: metricsPort, host: '127.0.0.1' }, probes: { port: (taken.address() as AddressInfo).port, host: '127.0.0.1' } });
      const inf = mgr.informer<KubeObject>({ resource: CONFIGMAPS, namespaces: [ns], name: 'rt-fail-port' });
      await expect(mgr.start()).rejects.toThrow(/EADDRINUSE/);
      expect(await listening(metricsPort)).toBe(false);
      expect(inf.stats.lists).toBe(0);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('leader election timings that cannot work: start() rejects before anything listens', async () => {
    const metricsPort = await freePort();
    const mgr = new Manager({
      kubeConfig: kc,
      metrics: { port: metricsPort, host: '127.0.0.1' },
      probes: false,
      leaderElection: { namespace: ns, name: 'rt-bad-lease', identity: 'bad', leaseDurationMs: 1_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 },
    });
    await expect(mgr.start()).rejects.toThrow(/leaseDuration must be greater than renewDeadline/);
    expect(await listening(metricsPort)).toBe(false);
  });
});
