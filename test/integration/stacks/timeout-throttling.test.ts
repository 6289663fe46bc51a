// The timeout cancel, and convergence under provider throttling without a hot loop, on the real API
// server with the emulator. The timeout test shortens the planner's grace (a test-only setting) so a
// one-minute timeoutMinutes triggers after a few seconds instead of six minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, isReady, stackManifest, startOperatorEnv, templateFor } from './harness.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({
    providers: ['heat', 'ros'],
    operator: {
      pollIntervalMs: 200,
      readCacheMs: 0,
      backoff: { baseMs: 100, capMs: 2000 },
      // timeoutMinutes: 1 → the operator cancels after 60 s - 55 s = 5 s.
      planner: { retryBaseMs: 300, retryCapMs: 2000, createVisibilityGraceMs: 2000, timeoutGraceMs: -55_000 },
    },
  });
}, 180_000);
afterAll(async () => {
  await env?.stop();
});

const counts = (provider: 'heat' | 'ros', name: string) =>
  Object.values(env.emu.engine.mutationCounts(provider, name))[0] ?? { create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0, stackIds: [] };

describe('timeout cancel', () => {
  it('an update running past timeoutMinutes is cancelled: Stalled UpdateTimedOut, not re-applied', async () => {
    // 400 emulated seconds at speed 0.05 = 20 s: longer than the 5 s the operator waits. Like real Heat,
    // the emulator lets the in-flight resource step finish before the rollback completes.
    await env.apply(stackManifest('slow', 'heat', { template: { inline: templateFor('heat', 'a', { update: 400 }) }, parameters: { message: 'one' }, timeoutMinutes: 1 }));
    await env.waitStack('slow', isReady, 'Ready');
    await env.apply(stackManifest('slow', 'heat', { template: { inline: templateFor('heat', 'a', { update: 400 }) }, parameters: { message: 'two' }, timeoutMinutes: 1 }));
    const s = await env.waitStack('slow', (x) => cond(x, 'Stalled')?.reason === 'UpdateTimedOut', 'UpdateTimedOut', 60_000);
    expect(cond(s, 'Stalled')?.message).toContain('timeoutMinutes');
    expect(cond(s, 'Ready')?.status).toBe('False');
    const c = counts('heat', 'slow');
    expect(c.cancel).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(counts('heat', 'slow').update).toBe(1);
  });
});

describe('throttling', () => {
  it('under a tight provider rate limit every Stack converges and provider requests stay bounded', async () => {
    const n = 12;
    env.emu.control.setRateLimit({ requestsPerSecond: 4, burst: 4 });
    env.emu.control.requests.clear();
    const throttledBefore = env.emu.control.throttledCount;
    try {
      await Promise.all(
        Array.from({ length: n }, (_, i) => env.apply(stackManifest(`busy-${i}`, 'ros', { template: { inline: templateFor('ros', `v${i}`) } }))),
      );
      for (let i = 0; i < n; i++) await env.waitStack(`busy-${i}`, isReady, 'Ready under throttling', 120_000);
      const throttled = env.emu.control.throttledCount - throttledBefore;
      const total = [...env.emu.control.requests.values()].reduce((a, b) => a + b, 0);
      // Each Stack needs a handful of requests (create, a few polls, provider check); throttled answers
      // are retried after Retry-After, not in a loop. A hot loop would be thousands.
      expect(total).toBeLessThan(n * 40);
      expect(throttled).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) expect(counts('ros', `busy-${i}`).create).toBe(1);
    } finally {
      env.emu.control.setRateLimit(null);
    }
    const r = await kubectl(['wait', '--for=condition=Ready', ...Array.from({ length: n }, (_, i) => `stack/busy-${i}`), '-n', env.ns, '--timeout=30s']);
    expect(r.code, r.stderr).toBe(0);
  });
});
