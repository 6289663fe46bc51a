// Informer resilience against a dedicated etcd + kube-apiserver: apiserver restarts and 410 Gone
// after etcd compaction (deletions that happened in the gap must be surfaced).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '../../../src/runtime/informer.ts';
import { KubeClient, objectKey, type KubeObject } from '../../../src/runtime/kube-client.ts';
import { startControlPlane, type ControlPlane } from '../../../src/devenv/control-plane.ts';
import { CONFIGMAPS, HeldListClient, configMap, waitFor } from './util.ts';

let cp: ControlPlane;
let kc: KubeConfig;
let client: KubeClient;

beforeAll(async () => {
  // No watch cache: watches go to etcd, so a compaction alone turns a resumed watch into 410 Gone.
  cp = await startControlPlane({ apiserverArgs: ['--watch-cache=false'] });
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  client = new KubeClient(kc, { timeoutMs: 10_000 });
  await client.create({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'rt' },
  });
});
afterAll(async () => {
  await cp?.stop();
});

type CM = KubeObject & { data?: Record<string, string> };

function recorder(inf: Informer<CM>): { events: string[]; counts: () => Record<string, number> } {
  const events: string[] = [];
  inf.onAdd((o) => events.push(`add ${objectKey(o)}`));
  inf.onUpdate((_o, n) => events.push(`update ${objectKey(n)}`));
  inf.onDelete((o) => events.push(`delete ${objectKey(o)}`));
  return {
    events,
    counts: () => {
      const c: Record<string, number> = {};
      for (const e of events) {
        const k = e.split(' ')[0] ?? '';
        c[k] = (c[k] ?? 0) + 1;
      }
      return c;
    },
  };
}

async function serverState(ns: string, selector: string): Promise<Map<string, string>> {
  const list = await client.list<CM>(CONFIGMAPS, ns, { labelSelector: selector });
  return new Map(list.items.map((o) => [objectKey(o), o.metadata.resourceVersion ?? '']));
}

function cacheState(inf: Informer<CM>): Map<string, string> {
  return new Map(inf.list().map((o) => [objectKey(o), o.metadata.resourceVersion ?? '']));
}

const fastBackoff = { initialMs: 100, maxMs: 1_000, resetAfterMs: 5_000 };

describe('Informer resilience (dedicated control plane)', () => {
  it('keeps a correct cache across a kube-apiserver restart, without a duplicate handler storm', async () => {
    for (let i = 0; i < 20; i++) await client.create(CONFIGMAPS, 'rt', configMap('rt', `r-${i}`, { v: '0' }, { set: 'restart' }));
    const inf = new Informer<CM>(client, { resource: CONFIGMAPS, namespaces: ['rt'], labelSelector: 'set=restart', backoff: fastBackoff });
    const rec = recorder(inf);
    inf.start();
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      expect(rec.counts()).toEqual({ add: 20 });
      await client.patch(CONFIGMAPS, 'rt', 'r-0', { data: { v: 'before' } }, { contentType: 'application/merge-patch+json' });
      await waitFor('pre-restart update', () => inf.get('rt/r-0')?.data?.v === 'before');

      await cp.restartApiServer();
      // Changes right after the restart, while the informer may still be reconnecting.
      await client.patch(CONFIGMAPS, 'rt', 'r-1', { data: { v: 'after' } }, { contentType: 'application/merge-patch+json' });
      await client.delete(CONFIGMAPS, 'rt', 'r-2');
      await client.create(CONFIGMAPS, 'rt', configMap('rt', 'r-new', {}, { set: 'restart' }));

      await waitFor('cache equals server', async () => {
        const [s, c] = [await serverState('rt', 'set=restart'), cacheState(inf)];
        return s.size === c.size && [...s].every(([k, rv]) => c.get(k) === rv);
      });
      expect(inf.get('rt/r-1')?.data?.v).toBe('after');
      expect(inf.get('rt/r-2')).toBeUndefined();
      // Exactly the real changes: 20 initial adds + r-new; r-0 and r-1 updated once; r-2 deleted once.
      const counts = rec.counts();
      expect(counts.add).toBe(21);
      expect(counts.update).toBe(2);
      expect(counts.delete).toBe(1);
      expect(inf.stats.watchStarts).toBeGreaterThanOrEqual(2);
    } finally {
      await inf.stop();
    }
  });

  it('relists on 410 Gone after etcd compaction and surfaces deletions from the gap', async () => {
    for (let i = 0; i < 10; i++) await client.create(CONFIGMAPS, 'rt', configMap('rt', `g-${i}`, { v: '0' }, { set: 'gone' }));
    const inf = new Informer<CM>(client, { resource: CONFIGMAPS, namespaces: ['rt'], labelSelector: 'set=gone', backoff: fastBackoff });
    const rec = recorder(inf);
    inf.start();
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      expect(rec.counts()).toEqual({ add: 10 });
      // The gap: the apiserver is down, so the informer's watch is broken and it cannot see what
      // happens next. Delete and change objects straight in etcd, then compact its history.
      await cp.stopApiServer();
      const etcdKey = (name: string): string => Buffer.from(`/registry/configmaps/rt/${name}`).toString('base64');
      for (const name of ['g-3', 'g-4', 'g-5']) {
        const res = await fetch(`${cp.etcdUrl}/v3/kv/deleterange`, { method: 'POST', body: JSON.stringify({ key: etcdKey(name) }) });
        expect(res.ok).toBe(true);
      }
      await cp.compactEtcd();
      await cp.startApiServer();
      // Also a change through the apiserver after the restart.
      await client.patch(CONFIGMAPS, 'rt', 'g-0', { data: { v: 'post' } }, { contentType: 'application/merge-patch+json' });

      await waitFor('deletions surfaced', () => inf.size === 7 && inf.get('rt/g-0')?.data?.v === 'post', 60_000);
      expect(inf.stats.relists410).toBeGreaterThanOrEqual(1);
      const deleted = rec.events.filter((e) => e.startsWith('delete')).sort();
      expect(deleted).toEqual(['delete rt/g-3', 'delete rt/g-4', 'delete rt/g-5']);
      // No storm: unchanged objects produced no events on relist.
      expect(rec.counts().add).toBe(10);
      expect(rec.counts().update).toBe(1);
      const s = await serverState('rt', 'set=gone');
      expect([...s.keys()].sort()).toEqual(inf.keys().sort());
    } finally {
      await inf.stop();
    }
  });

  it('starts a LIST over when its continue token expires (etcd compacted mid-list) and ends with the server state', async () => {
    for (let i = 0; i < 6; i++) await client.create(CONFIGMAPS, 'rt', configMap('rt', `c-${i}`, { v: '0' }, { set: 'cont' }));
    // Pages of 2, and every continue request held: the first page (c-0, c-1) is stored, the rest waits.
    const held = new HeldListClient(kc, 'configmaps');
    const inf = new Informer<CM>(held, { resource: CONFIGMAPS, namespaces: ['rt'], labelSelector: 'set=cont', pageSize: 2, backoff: fastBackoff });
    const rec = recorder(inf);
    inf.start();
    try {
      await waitFor('first page stored', () => inf.size === 2);
      // While the list is held: a stored object and a not yet listed one are deleted, one not yet
      // listed is changed, one is added; then etcd forgets the revision the continue token reads at.
      await client.delete(CONFIGMAPS, 'rt', 'c-0');
      await client.delete(CONFIGMAPS, 'rt', 'c-3');
      await client.patch(CONFIGMAPS, 'rt', 'c-4', { data: { v: 'new' } }, { contentType: 'application/merge-patch+json' });
      await client.create(CONFIGMAPS, 'rt', configMap('rt', 'c-6', {}, { set: 'cont' }));
      await cp.compactEtcd();
      held.release();
      await inf.waitForSync({ timeoutMs: 30_000 });

      expect(inf.stats.listRestarts).toBe(1);
      // Right at sync, before any watch event could repair it, the cache is the server's state.
      expect(inf.keys().sort()).toEqual(['rt/c-1', 'rt/c-2', 'rt/c-4', 'rt/c-5', 'rt/c-6']);
      expect(inf.get('rt/c-4')?.data?.v).toBe('new');
      // The stale snapshot never reached a handler (no add of c-3, c-4 added once with its new value),
      // and c-0, stored from the first attempt, is deleted at the end of the second.
      expect(rec.events).toEqual(['add rt/c-0', 'add rt/c-1', 'add rt/c-2', 'add rt/c-4', 'add rt/c-5', 'add rt/c-6', 'delete rt/c-0']);
      const s = await serverState('rt', 'set=cont');
      expect([...s].every(([k, rv]) => inf.get(k)?.metadata.resourceVersion === rv)).toBe(true);
      expect(inf.stats.relists410).toBe(0);
    } finally {
      held.release();
      await inf.stop();
    }
  });

  it('the watchdog restarts a silent watch (bookmarks count as activity)', async () => {
    const inf = new Informer<CM>(client, { resource: CONFIGMAPS, namespaces: ['rt'], labelSelector: 'set=none', watchdogMs: 1_500, backoff: fastBackoff });
    inf.start();
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      await waitFor('watchdog restart', () => inf.stats.watchdogRestarts >= 1, 10_000);
      // Still live after the restart.
      await client.create(CONFIGMAPS, 'rt', configMap('rt', 'wd', {}, { set: 'none' }));
      await waitFor('event after watchdog restart', () => inf.get('rt/wd') !== undefined);
    } finally {
      await inf.stop();
    }
  });
});
