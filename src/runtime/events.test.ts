import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { EVENTS_RESOURCE, EventRecorder } from './events.ts';
import { FakeKube } from './fake-client.test-util.ts';
import type { KubeClient } from './kube-client.ts';

const obj = (name: string) => ({ apiVersion: 'x.dev/v1', kind: 'Widget', metadata: { namespace: 'ns', name, uid: `uid-${name}` } });
const ev = { type: 'Warning' as const, reason: 'UpdateFailed', action: 'Update', note: 'quota exceeded' };

describe('EventRecorder', () => {
  it('aggregates repeats into series instead of new objects', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const r = new EventRecorder(kube.asClient(), { reportingController: 'x.dev/op', reportingInstance: 'pod-1', clock });
    await r.publish(obj('a'), ev);
    await clock.advance(1000);
    await r.publish(obj('a'), ev);
    await r.publish(obj('a'), ev);
    await r.publish(obj('a'), { ...ev, note: 'other' });
    const creates = kube.calls.filter((c) => c.verb === 'create');
    const patches = kube.calls.filter((c) => c.verb === 'patch');
    expect(creates.length).toBe(2);
    expect(patches.map((p) => (p.body as { series: { count: number } }).series.count)).toEqual([2, 3]);
    expect(patches[0]?.contentType).toBe('application/merge-patch+json');
    const body = creates[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      reason: 'UpdateFailed',
      action: 'Update',
      type: 'Warning',
      reportingController: 'x.dev/op',
      reportingInstance: 'pod-1',
      regarding: { kind: 'Widget', name: 'a', namespace: 'ns', uid: 'uid-a' },
    });
    expect(String(body.eventTime)).toMatch(/\.\d{6}Z$/);
  });

  it('starts a new Event after the TTL and when the old one is gone; cache is bounded', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const r = new EventRecorder(kube.asClient(), { reportingController: 'x.dev/op', reportingInstance: 'p', clock, cacheSize: 3, seriesTtlMs: 60_000 });
    await r.publish(obj('a'), ev);
    await clock.advance(61_000);
    await r.publish(obj('a'), ev);
    expect(kube.calls.filter((c) => c.verb === 'create').length).toBe(2);
    kube.objects.clear(); // events expired server-side
    await r.publish(obj('a'), ev);
    expect(kube.calls.filter((c) => c.verb === 'create').length).toBe(3);
    for (const n of ['b', 'c', 'd', 'e']) await r.publish(obj(n), ev);
    expect(r.cacheEntries).toBe(3);
    expect([...kube.objects.keys()].every((k) => k.startsWith(`${EVENTS_RESOURCE.group}/events/ns/`))).toBe(true);
  });

  it('never throws', async () => {
    const kube = new FakeKube();
    kube.failWith = new Error('down');
    const r = new EventRecorder(kube.asClient(), { reportingController: 'x.dev/op', reportingInstance: 'p' });
    await expect(r.publish(obj('a'), ev)).resolves.toBeUndefined();
    await expect(r.publish(obj('a'), ev)).resolves.toBeUndefined();
  });

  it('record() returns before the write; beyond maxPending writes in flight it drops and counts; flush() waits', async () => {
    const held: Array<() => void> = [];
    const writes: unknown[] = [];
    const slow = {
      create: (_r: unknown, _ns: string, body: unknown) =>
        new Promise<void>((resolve) => {
          writes.push(body);
          held.push(resolve);
        }),
    } as unknown as KubeClient;
    const r = new EventRecorder(slow, { reportingController: 'x.dev/op', reportingInstance: 'p', maxPending: 2 });
    r.record(obj('a'), ev);
    r.record(obj('b'), ev);
    r.record(obj('c'), ev);
    await Promise.resolve();
    expect(writes.length).toBe(2);
    expect(r.dropped).toBe(1);
    let flushed = false;
    const f = r.flush().then(() => (flushed = true));
    await Promise.resolve();
    expect(flushed).toBe(false);
    for (const release of held) release();
    await f;
    expect(flushed).toBe(true);
    r.record(obj('d'), ev);
    expect(r.dropped).toBe(1);
  });
});
