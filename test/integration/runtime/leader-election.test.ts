// Leader election on a real Lease: contention, takeover after SIGKILL of the leader's process,
// immediate stop when the lease is stolen, release on graceful stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_RESOURCE, LeaderElector, microTime, type Lease } from '../../../src/runtime/leader-election.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { isConflict } from '../../../src/runtime/errors.ts';
import { deleteNamespace, testKubeConfig, testKubeconfigPath, uniqueNamespace } from '../../env/kube.ts';
import { waitFor } from './util.ts';

const LEASE_MS = 3_000;
const RENEW_MS = 2_000;
const RETRY_MS = 500;
let ns = '';

beforeAll(async () => {
  ns = await uniqueNamespace('rt-le');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

/** An elector with its own KubeConfig and client (as a separate process would have). */
function makeElector(name: string, identity: string, log: string[]): { e: LeaderElector; abort: AbortController; run: Promise<'lost' | 'stopped'>; leadSignal: () => AbortSignal | undefined } {
  let sig: AbortSignal | undefined;
  const e = new LeaderElector({
    client: new KubeClient(testKubeConfig(), { timeoutMs: 5_000 }),
    namespace: ns,
    name,
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    onStartedLeading: (s) => {
      sig = s;
      log.push(`${identity} leading @${Date.now()}`);
    },
    onStoppedLeading: (reason) => log.push(`${identity} stopped ${reason} @${Date.now()}`),
  });
  const abort = new AbortController();
  return { e, abort, run: e.run(abort.signal), leadSignal: () => sig };
}

async function readLease(name: string): Promise<Lease> {
  return await new KubeClient(testKubeConfig()).get<Lease>(LEASE_RESOURCE, ns, name);
}

describe('LeaderElector (shared apiserver)', () => {
  it('two contenders: exactly one leads; graceful stop releases and the other takes over at once', async () => {
    const log: string[] = [];
    const a = makeElector('contend', 'a', log);
    const b = makeElector('contend', 'b', log);
    try {
      await waitFor('a leader', () => a.e.isLeader() || b.e.isLeader());
      // Hold for a few renew periods: never both.
      for (let i = 0; i < 20; i++) {
        expect(Number(a.e.isLeader()) + Number(b.e.isLeader())).toBe(1);
        await new Promise((r) => setTimeout(r, 100));
      }
      const [leader, follower] = a.e.isLeader() ? [a, b] : [b, a];
      const lease = await readLease('contend');
      expect(lease.spec?.holderIdentity).toBe(leader.e.identity);
      expect(lease.spec?.leaseDurationSeconds).toBe(3);
      expect(lease.spec?.renewTime).toMatch(/\.\d{6}Z$/);
      leader.abort.abort();
      expect(await leader.run).toBe('stopped');
      expect(leader.leadSignal()?.aborted).toBe(true);
      const released = Date.now();
      await waitFor('takeover after release', () => follower.e.isLeader(), 10_000);
      expect(Date.now() - released).toBeLessThan(RETRY_MS * 2.2 + 1_000); // no lease-duration wait
      const after = await readLease('contend');
      expect(after.spec?.holderIdentity).toBe(follower.e.identity);
      expect(after.spec?.leaseTransitions).toBe(1);
    } finally {
      a.abort.abort();
      b.abort.abort();
      await Promise.all([a.run, b.run]);
    }
  });

  it('SIGKILL of the leader process: the standby takes over within leaseDuration + retryPeriod', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(import.meta.dirname, 'elector-child.ts'), testKubeconfigPath(), ns, 'killed', 'child', String(LEASE_MS), String(RENEW_MS), String(RETRY_MS)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const log: string[] = [];
    let standby: ReturnType<typeof makeElector> | undefined;
    try {
      await waitFor('child leads', () => out.includes('LEADING'), 30_000);
      standby = makeElector('killed', 'standby', log);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(standby.e.isLeader()).toBe(false);
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited;
      await waitFor('standby takes over', () => standby?.e.isLeader() === true, 15_000);
      const took = Date.now() - killedAt;
      // The lease must expire as observed by the standby (up to leaseDuration after the last renew
      // it saw), plus at most one jittered retry period, plus request latency.
      expect(took).toBeLessThanOrEqual(LEASE_MS + RETRY_MS * 2.2 + 1_000);
      expect(out).not.toContain('STOPPED'); // it was killed, not stopped
      const lease = await readLease('killed');
      expect(lease.spec?.holderIdentity).toBe('standby');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      standby?.abort.abort();
      await standby?.run;
    }
  });

  it('an elector whose lease is stolen stops at once (abort signal fired)', async () => {
    const log: string[] = [];
    const a = makeElector('stolen', 'a', log);
    try {
      await waitFor('a leads', () => a.e.isLeader());
      const client = new KubeClient(testKubeConfig());
      // Steal it (retry if a renew of `a` races our update: optimistic concurrency).
      for (let attempt = 0; ; attempt++) {
        const lease = await readLease('stolen');
        const now = microTime(Date.now());
        try {
          await client.replace(LEASE_RESOURCE, ns, 'stolen', {
            ...lease,
            spec: { ...lease.spec, holderIdentity: 'thief', renewTime: now, acquireTime: now, leaseDurationSeconds: 60 },
          });
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= 5) throw err;
        }
      }
      const stolenAt = Date.now();
      expect(await a.run).toBe('lost');
      expect(Date.now() - stolenAt).toBeLessThan(RETRY_MS + 1_000); // at the next renew, not after renewDeadline
      expect(a.leadSignal()?.aborted).toBe(true);
      expect(a.e.isLeader()).toBe(false);
      expect((await readLease('stolen')).spec?.holderIdentity).toBe('thief');
    } finally {
      a.abort.abort();
      await a.run;
    }
  });
});
