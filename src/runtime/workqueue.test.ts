import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.ts';
import {
  BucketRateLimiter,
  LOW_PRIORITY,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
  defaultControllerRateLimiter,
} from './workqueue.ts';

function queue(clock = new FakeClock()): { q: WorkQueue<string>; clock: FakeClock } {
  return { q: new WorkQueue<string>({ clock, rateLimiter: defaultControllerRateLimiter({ clock }) }), clock };
}

describe('WorkQueue', () => {
  it('dedups repeated adds and hands items out FIFO', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    expect(q.len()).toBe(3);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBe('c');
    expect(q.len()).toBe(0);
  });

  it('hands out higher priorities first, FIFO within one; a repeated add raises an item, never lowers it', async () => {
    const { q } = queue();
    for (const k of ['l1', 'l2', 'l3']) q.add(k, LOW_PRIORITY);
    q.add('n1');
    q.add('l2'); // raised: leaves the low queue for the normal one, behind n1
    q.add('n1', LOW_PRIORITY); // not lowered
    expect(q.len()).toBe(4);
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) order.push(q.tryGet());
    expect(order).toEqual(['n1', 'l2', 'l1', 'l3']);
    expect(q.len()).toBe(0);
  });

  it('a delayed add keeps its priority: a poll requeue overtakes the initial list', async () => {
    const { q, clock } = queue();
    for (let i = 0; i < 100; i++) q.add(`initial-${i}`, LOW_PRIORITY);
    const first = q.tryGet();
    expect(first).toBe('initial-0');
    q.addAfter('initial-0', 2_000); // reconciled: polled again at the normal priority
    q.done('initial-0');
    await clock.advance(2_000);
    expect(q.tryGet()).toBe('initial-0');
    expect(q.tryGet()).toBe('initial-1');
  });

  it('an item re-added while in flight is queued again at the highest priority asked for', async () => {
    const { q } = queue();
    q.add('a', LOW_PRIORITY);
    q.add('b', LOW_PRIORITY);
    expect(q.tryGet()).toBe('a');
    q.add('a', LOW_PRIORITY);
    q.add('a');
    q.done('a');
    expect(q.tryGet()).toBe('a');
    expect(q.tryGet()).toBe('b');
  });

  it('never hands out an item twice at once; re-add while in flight runs once more afterwards', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // dirty, not queued while processing
    expect(q.tryGet()).toBeUndefined();
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.tryGet()).toBeUndefined();
  });

  it('get waits for an add', async () => {
    const { q } = queue();
    let got: string | undefined = 'none';
    void q.get().then((v) => (got = v));
    await flushMicrotasks();
    expect(got).toBe('none');
    q.add('x');
    await flushMicrotasks();
    expect(got).toBe('x');
  });

  it('addAfter delays and keeps the earliest deadline', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    q.addAfter('b', 500);
    expect(q.len()).toBe(0);
    await clock.advance(499);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.tryGet()).toBe('b');
    await clock.advance(500);
    expect(q.tryGet()).toBe('a');
    await clock.advance(10_000);
    expect(q.len()).toBe(0); // the later deadline was dropped
    q.addAfter('c', 1000);
    q.addAfter('c', 10); // earlier one replaces
    await clock.advance(10);
    expect(q.tryGet()).toBe('c');
  });

  it('rate-limited requeues back off exponentially per key, capped, and forget resets', () => {
    const limiter = new ItemExponentialRateLimiter<string>(5, 1_000_000);
    const delays = Array.from({ length: 20 }, () => limiter.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(Math.max(...delays)).toBe(1_000_000);
    expect(delays[18]).toBe(1_000_000);
    expect(limiter.numRequeues('a')).toBe(20);
    expect(limiter.when('b')).toBe(5); // independent per key
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
    // Never overflows.
    for (let i = 0; i < 2000; i++) limiter.when('z');
    expect(limiter.when('z')).toBe(1_000_000);
  });

  it('token bucket: burst is free, then 10 qps', () => {
    const clock = new FakeClock();
    const b = new BucketRateLimiter<string>(10, 100, clock);
    for (let i = 0; i < 100; i++) expect(b.when(`k${i}`)).toBe(0);
    expect(b.when('x')).toBe(100);
    expect(b.when('y')).toBe(200);
  });

  it('default limiter is the max of per-item and bucket', () => {
    const clock = new FakeClock();
    const l = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter(5, 1000), new BucketRateLimiter(10, 2, clock));
    expect(l.when('a')).toBe(5);
    expect(l.when('a')).toBe(10);
    expect(l.when('b')).toBe(100); // bucket exhausted (burst 2)
    expect(l.numRequeues('a')).toBe(2);
  });

  it('addRateLimited grows the delay per key and numRequeues counts it', async () => {
    const { q, clock } = queue();
    q.addRateLimited('a');
    expect(q.numRequeues('a')).toBe(1);
    await clock.advance(4);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.tryGet()).toBe('a');
    q.done('a');
    q.addRateLimited('a');
    await clock.advance(9);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.tryGet()).toBe('a');
    q.done('a');
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a', 2000); // at least the given delay (Retry-After)
    await clock.advance(1999);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('shutDown: adds ignored, queued items still handed out, then undefined', async () => {
    const { q, clock } = queue();
    q.add('a');
    q.addAfter('late', 10);
    q.shutDown();
    q.add('b');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBeUndefined();
    await clock.advance(100);
    expect(q.len()).toBe(0);
  });

  it('shutDown wakes blocked getters', async () => {
    const { q } = queue();
    const p = q.get();
    q.shutDown();
    expect(await p).toBeUndefined();
  });

  it('shutDownWithDrain waits for in-flight items; discardQueued drops the rest', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    expect(await q.get()).toBe('a');
    q.add('a'); // dirty while processing: discarded on shutdown
    let drained = false;
    const p = q.shutDownWithDrain({ discardQueued: true }).then((v) => (drained = v));
    await flushMicrotasks();
    expect(drained).toBe(false);
    expect(await q.get()).toBeUndefined();
    q.done('a');
    await p;
    expect(drained).toBe(true);
    expect(q.len()).toBe(0);
  });

  it('shutDownWithDrain times out', async () => {
    const { q, clock } = queue();
    q.add('a');
    await q.get();
    const p = q.shutDownWithDrain({ timeoutMs: 1000 });
    await clock.advance(1000);
    expect(await p).toBe(false);
  });

  it('shutDownWithDrain without discard processes queued items first', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    const p = q.shutDownWithDrain();
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(await q.get()).toBe('b');
    q.done('b');
    expect(await p).toBe(true);
  });
});
