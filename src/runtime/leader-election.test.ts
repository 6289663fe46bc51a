import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { FakeKube } from './fake-client.test-util.ts';
import { LEASE_RESOURCE, LeaderElector, type Lease } from './leader-election.ts';

function elector(kube: FakeKube, clock: FakeClock, id: string, log: string[]): { e: LeaderElector; abort: AbortController; run: Promise<string>; leading: () => AbortSignal | undefined } {
  let leadSignal: AbortSignal | undefined;
  const e = new LeaderElector({
    client: kube.asClient(),
    namespace: 'ns',
    name: 'lock',
    identity: id,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    onStartedLeading: (s) => {
      leadSignal = s;
      log.push(`${id} start`);
    },
    onStoppedLeading: (reason) => log.push(`${id} stop ${reason}`),
  });
  const abort = new AbortController();
  const run = e.run(abort.signal);
  return { e, abort, run, leading: () => leadSignal };
}

const lease = (kube: FakeKube): Lease => kube.objects.get(kube.key(LEASE_RESOURCE, 'ns', 'lock')) as Lease;

describe('LeaderElector', () => {
  it('validates durations', () => {
    const kube = new FakeKube();
    expect(() => new LeaderElector({ client: kube.asClient(), namespace: 'n', name: 'l', leaseDurationMs: 10, renewDeadlineMs: 10, onStartedLeading: () => {} })).toThrow();
    expect(() => new LeaderElector({ client: kube.asClient(), namespace: 'n', name: 'l', renewDeadlineMs: 2000, retryPeriodMs: 2000, onStartedLeading: () => {} })).toThrow();
  });

  it('one leads; the other takes over only after the lease expires as observed locally', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(kube, clock, 'a', log);
    await flushMicrotasks();
    expect(a.e.isLeader()).toBe(true);
    expect(lease(kube).spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const b = elector(kube, clock, 'b', log);
    await clock.advance(20_000);
    expect(b.e.isLeader()).toBe(false); // a keeps renewing
    // Stop a, then make the lease look held by a dead holder 'z' that never renews.
    a.abort.abort();
    await a.run;
    kube.put(LEASE_RESOURCE, { ...lease(kube), spec: { ...lease(kube).spec, holderIdentity: 'z', leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z' } });
    const tDead = clock.now();
    for (let i = 0; i < 60 && !b.e.isLeader(); i++) await clock.advance(500);
    const took = clock.now() - tDead;
    expect(b.e.isLeader()).toBe(true);
    expect(took).toBeGreaterThanOrEqual(15_000);
    // b sees the new holder at its next retry (up to 2.2 retry periods after tDead), waits the lease
    // duration from that observation, then acquires at the retry after it: two jittered retries.
    expect(took).toBeLessThanOrEqual(15_000 + 2 * 2_000 * 2.2 + 500);
    expect(lease(kube).spec).toMatchObject({ holderIdentity: 'b' });
    expect(lease(kube).spec?.leaseTransitions).toBe(1); // z (written by hand) → b
    b.abort.abort();
    await b.run;
  });

  it('releases on graceful stop so a standby takes over at its next retry', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(kube, clock, 'a', log);
    await flushMicrotasks();
    const b = elector(kube, clock, 'b', log);
    await clock.advance(3_000);
    a.abort.abort();
    expect(await a.run).toBe('stopped');
    expect(lease(kube).spec?.holderIdentity ?? '').toBe('');
    await clock.advance(2_000 * 2.2 + 1);
    expect(b.e.isLeader()).toBe(true);
    expect(log).toEqual(['a start', 'a stop stopped', 'b start']);
    b.abort.abort();
    await b.run;
  });

  it('a stolen lease stops the leader at once', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(kube, clock, 'a', log);
    await flushMicrotasks();
    expect(a.e.isLeader()).toBe(true);
    kube.put(LEASE_RESOURCE, { ...lease(kube), spec: { ...lease(kube).spec, holderIdentity: 'thief' } });
    await clock.advance(2_000);
    expect(await a.run).toBe('lost');
    expect(a.leading()?.aborted).toBe(true);
    expect(log).toEqual(['a start', 'a stop lost']);
    expect(lease(kube).spec?.holderIdentity).toBe('thief'); // not released
  });

  it('renew failures past the renew deadline lose leadership', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(kube, clock, 'a', log);
    await flushMicrotasks();
    kube.failWith = new Error('apiserver down');
    await clock.advance(8_000);
    expect(a.e.isLeader()).toBe(true);
    await clock.advance(4_000);
    expect(await a.run).toBe('lost');
    expect(log).toEqual(['a start', 'a stop lost']);
  });
});
