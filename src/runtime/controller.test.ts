import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { Controller, awaitChange, requeueAfter, type Action } from './controller.ts';
import { TerminalError, TransientError } from './errors.ts';

function setup(
  reconcile: (key: string, signal: AbortSignal) => Promise<Action>,
  workers = 4,
): { c: Controller<null>; clock: FakeClock; abort: AbortController; run: Promise<void> } {
  const clock = new FakeClock();
  const c = new Controller<null>({
    name: `test-${Math.random().toString(36).slice(2)}`,
    context: null,
    clock,
    maxConcurrentReconciles: workers,
    reconciler: (key, _ctx, signal) => reconcile(key, signal),
  });
  const abort = new AbortController();
  const run = c.start(abort.signal);
  return { c, clock, abort, run };
}

describe('Controller', () => {
  // The reconcile's deadline is cleared when it returns: AbortSignal.timeout() could not be, and kept a
  // signal and a timer alive for the whole timeout after every reconcile, firing TimeoutErrors at rest.
  it('a reconcile deadline fires while the reconcile runs and is cleared when it returns', async () => {
    const signals: AbortSignal[] = [];
    const c = new Controller<null>({
      name: `test-${Math.random().toString(36).slice(2)}`,
      context: null,
      clock: new FakeClock(),
      maxConcurrentReconciles: 2,
      reconcileTimeoutMs: 30,
      reconciler: async (key, _ctx, signal) => {
        signals.push(signal);
        if (key === 'slow') await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return awaitChange();
      },
    });
    const abort = new AbortController();
    const run = c.start(abort.signal);
    c.enqueue('fast');
    c.enqueue('slow');
    await new Promise((r) => setTimeout(r, 120));
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(false); // returned at once: its deadline was cleared
    expect(signals[1]?.aborted).toBe(true);
    expect((signals[1]?.reason as Error).name).toBe('TimeoutError');
    abort.abort();
    await run;
  });

  it('never reconciles a key concurrently; a change during a reconcile triggers exactly one more', async () => {
    const inFlight = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    const calls = new Map<string, number>();
    const release: (() => void)[] = [];
    const { c, abort, run } = setup(async (key) => {
      const n = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, n);
      total++;
      maxPerKey = Math.max(maxPerKey, n);
      maxTotal = Math.max(maxTotal, total);
      calls.set(key, (calls.get(key) ?? 0) + 1);
      await new Promise<void>((r) => release.push(r));
      inFlight.set(key, n - 1);
      total--;
      return awaitChange();
    }, 8);
    for (let round = 0; round < 50; round++) {
      for (const k of ['a', 'b', 'c']) c.enqueue(`ns/${k}`);
      await flushMicrotasks();
      if (round % 3 === 0) while (release.length) release.shift()?.();
      await flushMicrotasks();
    }
    for (let i = 0; i < 10; i++) {
      while (release.length) release.shift()?.();
      await flushMicrotasks();
    }
    expect(maxPerKey).toBe(1);
    expect(maxTotal).toBeGreaterThan(1); // different keys did run in parallel
    abort.abort();
    await run;
  });

  it('requeueAfter forgets backoff and re-adds after the delay; done waits for a change', async () => {
    const seen: string[] = [];
    const { c, clock, abort, run } = setup(async (key) => {
      seen.push(key);
      return key === 'p' ? requeueAfter(10_000) : awaitChange();
    });
    c.enqueue('p');
    c.enqueue('q');
    await flushMicrotasks();
    expect(seen.sort()).toEqual(['p', 'q']);
    await clock.advance(9_999);
    expect(seen.length).toBe(2);
    await clock.advance(1);
    expect(seen.filter((k) => k === 'p').length).toBe(2);
    expect(seen.filter((k) => k === 'q').length).toBe(1);
    abort.abort();
    await run;
  });

  it('a background requeue (a resync) waits behind a normal one that is due at the same time', async () => {
    const seen: string[] = [];
    let release = (): void => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const { c, clock, abort, run } = setup(async (key) => {
      seen.push(key);
      if (seen.filter((k) => k === key).length > 1) return awaitChange();
      if (key === 'b') await blocked;
      if (key === 'r') return requeueAfter(1000, { background: true });
      if (key === 'p') return requeueAfter(1001);
      return awaitChange();
    }, 1);
    c.enqueue('r');
    await flushMicrotasks();
    c.enqueue('p');
    await flushMicrotasks();
    c.enqueue('b');
    await flushMicrotasks();
    await clock.advance(1001); // r, then p, became due while the only worker is busy with b
    release();
    await flushMicrotasks();
    await flushMicrotasks();
    expect(seen).toEqual(['r', 'p', 'b', 'p', 'r']);
    abort.abort();
    await run;
  });

  it('transient errors back off exponentially; terminal errors are not retried; other keys unaffected', async () => {
    const times = new Map<string, number[]>();
    const { c, clock, abort, run } = setup(async (key) => {
      const list = times.get(key) ?? [];
      list.push(clock.now());
      times.set(key, list);
      if (key === 'flaky') throw new Error('boom');
      if (key === 'terminal') throw new TerminalError('bad spec');
      if (key === 'weird') throw 'a string'; // eslint-disable-line @typescript-eslint/only-throw-error
      return awaitChange();
    });
    c.enqueue('flaky');
    c.enqueue('terminal');
    c.enqueue('weird');
    c.enqueue('fine');
    await clock.advance(1000);
    const flaky = times.get('flaky') ?? [];
    const gaps = flaky.slice(1).map((t, i) => t - (flaky[i] ?? 0));
    expect(gaps.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(times.get('terminal')?.length).toBe(1);
    expect(times.get('fine')?.length).toBe(1);
    expect((times.get('weird')?.length ?? 0) > 1).toBe(true); // non-Error throws are transient too
    expect(c.queue.numRequeues('flaky')).toBeGreaterThan(5);
    abort.abort();
    await run;
  });

  it('honours retryAfterMs on an error as a floor', async () => {
    const times: number[] = [];
    const { c, clock, abort, run } = setup(async () => {
      times.push(clock.now());
      if (times.length === 1) throw new TransientError('slow down', { retryAfterMs: 3000 });
      return awaitChange();
    });
    c.enqueue('k');
    await clock.advance(2999);
    expect(times.length).toBe(1);
    await clock.advance(1);
    expect(times.length).toBe(2);
    abort.abort();
    await run;
  });

  it('requeueAfterMs 0 is a rate-limited requeue', async () => {
    let n = 0;
    const { c, clock, abort, run } = setup(async () => (++n < 3 ? requeueAfter(0) : awaitChange()));
    c.enqueue('k');
    await clock.advance(100);
    expect(n).toBe(3);
    abort.abort();
    await run;
  });

  it('abort fires the reconcile signal, stops taking keys and resolves start after in-flight work', async () => {
    let sawAbort = false;
    let started = 0;
    const { c, abort, run } = setup(async (_key, signal) => {
      started++;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = signal.aborted;
      return awaitChange();
    }, 1);
    c.enqueue('a');
    c.enqueue('b');
    await flushMicrotasks();
    expect(started).toBe(1);
    let finished = false;
    void run.then(() => (finished = true));
    abort.abort();
    await run;
    expect(finished).toBe(true);
    expect(sawAbort).toBe(true);
    expect(started).toBe(1); // 'b' was never started
  });
});
