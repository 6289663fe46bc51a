// A spec change's operation record is written while the provider read runs (issue 16, reaction latency;
// docs/stack-controller.md, "The record written during the read"), on a real API server and the emulator
// over HTTP. The emulator holds the operator's read (a `slow` fault), so what the API server holds while
// the read is out shows the order; the emulator's own operation log counts the calls.
//
// Second case, as a user changing the stack outside Kubernetes would: the stack was updated outside
// since the operator's previous read. The record written during the read then carries stale observed
// values, so it must be replaced before the call by the record of the new read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackObject } from '../../../src/stacks/context.ts';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, hot, isReady, stackManifest, startOperatorEnv } from './harness.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'] });
});
afterAll(async () => env?.stop());

/** How long the emulator holds the read after the spec change; the record must show well within it. */
const HOLD_MS = 8_000;
const updates = (s: StackObject): number => env.emu.engine.get(s.status?.stackId ?? '')?.operations.filter((o) => o.action === 'UPDATE').length ?? 0;

async function readyStack(name: string): Promise<StackObject> {
  await env.apply(stackManifest(name, 'heat', { template: { inline: hot('one') } }));
  return env.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'one', 'Ready with one');
}

describe('the operation record written during the read', () => {
  it('is in the API server while the read is held, and the update goes out only after the read', async () => {
    const ready = await readyStack('during');
    env.emu.control.addFault({ service: 'heat', operation: 'get', kind: 'slow', delayMs: HOLD_MS, times: 1 });
    await env.apply(stackManifest('during', 'heat', { template: { inline: hot('two', { update: 40 }) } }));
    const held = await env.waitStack('during', (s) => s.status?.operation?.type === 'Update', 'the record while the read is held', HOLD_MS - 2_000);
    expect(held.status?.operation).toMatchObject({ generation: 2, recordedDuringRead: true });
    expect(held.status?.operation?.issuedAt).toBeUndefined();
    // The read is still held: no update was sent on the record alone.
    expect(updates(ready)).toBe(0);
    const done = await env.waitStack('during', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'Ready with two', 30_000);
    expect(done.status?.lastAppliedGeneration).toBe(2);
    expect(updates(done)).toBe(1);
  });

  it('a change made outside since the previous read: the early record is replaced by the new read\'s before the call', async () => {
    const ready = await readyStack('outside');
    const id = ready.status?.stackId ?? '';
    // Outside Kubernetes: the same template updated (Heat sets updated_time; the last operation becomes update).
    env.emu.engine.update(id, { paramMode: 'patch', params: {} });
    const deadline = Date.now() + 20_000;
    while (env.emu.engine.get(id)?.status !== 'COMPLETE' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const outsideAt = env.emu.engine.get(id)?.updatedAt;
    expect(outsideAt).toBeDefined();

    env.emu.control.addFault({ service: 'heat', operation: 'get', kind: 'slow', delayMs: HOLD_MS, times: 1 });
    await env.apply(stackManifest('outside', 'heat', { template: { inline: hot('two', { update: 40 }) } }));
    const early = await env.waitStack('outside', (s) => s.status?.operation?.type === 'Update', 'the early record', HOLD_MS - 2_000);
    // Planned on the previous read: a stack never updated then.
    expect(early.status?.operation).toMatchObject({ recordedDuringRead: true, observedUpdatedAt: '', observedOperation: 'create' });
    expect(updates(early)).toBe(1);

    const replaced = await env.waitStack('outside', (s) => s.status?.operation?.type === 'Update' && s.status.operation.recordedDuringRead !== true, 'the record of the new read', 30_000);
    expect(replaced.status?.operation?.observedOperation).toBe('update');
    expect(Date.parse(replaced.status?.operation?.observedUpdatedAt ?? '')).toBe(Math.floor((outsideAt as number) / 1000) * 1000);
    const done = await env.waitStack('outside', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'Ready with two', 30_000);
    expect(done.status?.lastAppliedGeneration).toBe(2);
    // The update made outside and ours, no other.
    expect(updates(done)).toBe(2);
  });

  // Until the call's confirmation (issuedAt) is persisted, recovery judges a record written during the
  // read by the clock as well; with a provider clock behind ours a crash then would send the call again.
  // So it is written right after the call, not with the next poll (here a minute away).
  it("the call's confirmation is written at once, not with the next poll", async () => {
    await readyStack('confirmed');
    const poll = async (interval: string) => {
      const r = await kubectl(['patch', 'stackprovider', 'heat', '-n', env.ns, '--type=merge', '-p', JSON.stringify({ spec: { pollInterval: interval } })]);
      expect(r.code, r.stderr).toBe(0);
    };
    await poll('60s');
    try {
      await env.apply(stackManifest('confirmed', 'heat', { template: { inline: hot('two', { update: 40 }) } }));
      const issued = await env.waitStack('confirmed', (s) => s.status?.operation?.issuedAt !== undefined, 'the call confirmed', 15_000);
      expect(issued.status?.operation).toMatchObject({ generation: 2, recordedDuringRead: true });
      expect(updates(issued)).toBe(1);
    } finally {
      await poll('200ms');
    }
    await env.waitStack('confirmed', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'Ready with two', 30_000);
  });
});
