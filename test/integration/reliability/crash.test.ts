// Reliability scenarios that need the operator as a real process (docs/reliability.md): the crash
// switch at every step (T1-T4), an upgrade with an operation in flight (T21), deletion and edits while
// the operator is down (T8, T7), leader failover mid-operation with two replicas (T11), and that the
// switch is inert when unset. The emulator's mutationCounts are the oracle: exactly one accepted
// create / update / cancel / delete per intended change.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crashSwitch } from '../../../src/cli/run.ts';
import { testKubeconfigPath } from '../../env/kube.ts';
import { cond, hot, isReady, stackManifest, templateFor } from '../stacks/harness.ts';
import { type RelEnv, sleep, startRelEnv } from './env.ts';
import { type OperatorProcess, startOperatorProcess, waitExit } from './operator-process.ts';

let env: RelEnv;
const running: OperatorProcess[] = [];

function operator(crashAt?: string, args: string[] = []): OperatorProcess {
  const p = startOperatorProcess({ kubeconfig: env.kubeconfig, namespaces: [env.ns], ...(crashAt ? { crashAt } : {}), args });
  running.push(p);
  return p;
}

beforeAll(async () => {
  env = await startRelEnv({ kubeconfig: testKubeconfigPath(), providers: ['heat', 'ros', 'rfs'], prefix: 'rel-crash' });
}, 120_000);
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});
afterAll(async () => {
  for (const p of running.splice(0)) await p.kill();
  await env?.close();
});

const spec = (message: string, waits: { create?: number; update?: number; delete?: number } = {}, extra: Record<string, unknown> = {}) => ({
  template: { inline: hot('t', waits) },
  parameters: { message },
  ...extra,
});

/** Runs `trigger` under a child with the crash switch set, expects it to exit 137 there, then restarts it without the switch. */
async function crashThenRestart(crashAt: string, trigger: () => Promise<void>): Promise<OperatorProcess> {
  const crashing = operator(crashAt);
  await trigger();
  const exit = await waitExit(crashing, 60_000, `crash at ${crashAt}`);
  expect(exit.code, crashing.logs().slice(-2000)).toBe(137);
  expect(crashing.grep(`STACK_OPERATOR_CRASH_AT: exiting at ${crashAt}`).length).toBe(1);
  return operator();
}

describe('the crash switch', () => {
  it('is inert when unset, and rejects a malformed value', () => {
    expect(crashSwitch(undefined)).toBeUndefined();
    expect(crashSwitch('')).toBeUndefined();
    expect(() => crashSwitch('not a point!')).toThrow(/STACK_OPERATOR_CRASH_AT/);
    // Set, it only fires at its own point and action, and counts occurrences.
    const fire = crashSwitch('after-provider-call:delete@2');
    expect(fire).toBeTypeOf('function');
  });

  it('unset: a full create / update / delete runs in one process that never exits', async () => {
    const p = operator();
    await env.apply(stackManifest('inert', 'heat', spec('one')));
    const ready = await env.waitStack('inert', isReady, 'Ready');
    // The operator's writes carry its name as field manager (its User-Agent), as kubectl shows them.
    const managers = (ready.metadata.managedFields ?? []) as { manager?: string; subresource?: string; fieldsV1?: { 'f:metadata'?: Record<string, unknown> } }[];
    expect(managers.filter((m) => m.subresource === 'status').map((m) => m.manager)).toEqual(['stack-operator']);
    expect(managers.filter((m) => m.fieldsV1?.['f:metadata']?.['f:finalizers']).map((m) => m.manager)).toEqual(['stack-operator']);
    await env.apply(stackManifest('inert', 'heat', spec('two')));
    await env.waitStack('inert', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'updated');
    await env.kubectl(['delete', 'stack', 'inert', '-n', env.ns, '--wait=false']);
    await env.waitGone('inert');
    expect(p.alive).toBe(true);
    expect(p.grep('STACK_OPERATOR_CRASH_AT')).toEqual([]);
    expect(env.counts('heat', 'inert')).toMatchObject({ create: 1, update: 1, delete: 1 });
    await p.stop();
    expect((await p.exited).code).toBe(0);
  });
});

describe('crash between approval and apply, provider plans (docs/plan-approve.md)', () => {
  // The oracle: create / update operations the emulator's engine ran on the stack (a plan runs none).
  const applied = (p: 'ros' | 'rfs', name: string): number => {
    const scope = p === 'ros' ? env.emu.credentials.ros.regionId : env.emu.credentials.rfs.projectId;
    return env.emu.engine.findByName(p, scope, name)?.operations.filter((o) => o.action === 'CREATE' || o.action === 'UPDATE').length ?? 0;
  };
  it.each([
    ['ros', 'after-operation-recorded:create'],
    ['ros', 'after-provider-call:create'],
    ['rfs', 'after-operation-recorded:create'],
    ['rfs', 'after-provider-call:create'],
  ] as const)('%s: %s → the approved plan is executed exactly once', async (p, crashAt) => {
    const name = `plan-${p}-${crashAt.split('-')[1]}`;
    const first = operator();
    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'a') }, approval: { mode: 'Manual' } }));
    const waiting = await env.waitStack(name, (s) => cond(s, 'Reconciling')?.reason === 'AwaitingApproval' && s.status?.plan?.providerPlanId !== undefined, 'AwaitingApproval');
    await first.kill();
    expect(applied(p, name)).toBe(0);
    const restarted = await crashThenRestart(crashAt, async () => {
      await env.kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/approve=${waiting.status!.plan!.id}`, '--overwrite']);
    });
    const s = await env.waitStack(name, isReady, 'Ready after restart');
    expect(s.status?.lastAppliedGeneration).toBe(1);
    await sleep(500);
    expect(applied(p, name)).toBe(1);
    await restarted.stop();
  });
});

describe('crash at each step, then restart (T1, T2, T3)', () => {
  it.each([
    ['after-finalizer-added:addFinalizer'],
    ['after-operation-recorded:create'],
    ['after-provider-call:create'],
  ])('create: %s → exactly one create', async (crashAt) => {
    const name = `c-${crashAt.split(':')[0]}`.slice(0, 40);
    const restarted = await crashThenRestart(crashAt, () => env.apply(stackManifest(name, 'heat', spec('one'))));
    const s = await env.waitStack(name, isReady, 'Ready after restart');
    expect(s.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    await sleep(500);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 0, delete: 0 });
    expect(env.counts('heat', name).stackIds).toHaveLength(1);
    await restarted.stop();
  });

  it.each([['after-operation-recorded:update'], ['after-provider-call:update']])('update: %s → exactly one update (T1)', async (crashAt) => {
    const name = `u-${crashAt.split(':')[0]}`.slice(0, 40);
    const first = operator();
    await env.apply(stackManifest(name, 'heat', spec('one')));
    await env.waitStack(name, isReady, 'Ready');
    await first.kill();
    const restarted = await crashThenRestart(crashAt, () => env.apply(stackManifest(name, 'heat', spec('two'))));
    await env.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'two' && s.status.lastAppliedGeneration === 2, 'updated after restart');
    await sleep(500);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1, delete: 0 });
    await restarted.stop();
  });

  // The one exposure of a record written during the read (docs/stack-controller.md): the stack changed
  // outside after the operator's previous read, and the operator dies while its new read is out. The
  // call was never sent; the record's observed values predate the outside change. Taken for the call,
  // the Stack would be Ready with the old content.
  it('update: record-written-during-read:update after a change made outside → the update is sent after the restart', async () => {
    const name = 'u-early-outside';
    const first = operator();
    await env.apply(stackManifest(name, 'heat', spec('one')));
    const ready = await env.waitStack(name, isReady, 'Ready');
    await first.kill();
    const crashing = operator('record-written-during-read:update');
    // A reconcile request makes the new process read the stack (its previous read) and say so in status.
    const asked = new Date().toISOString();
    expect((await env.kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/reconcile-requested-at=${asked}`, '--overwrite'])).code).toBe(0);
    await env.waitStack(name, (s) => s.status?.lastHandledReconcileRequest === asked, 'the reconcile request handled');
    // Outside Kubernetes, the same content updated; then more than a second (Heat's precision) before the spec change.
    const id = ready.status?.stackId as string;
    env.emu.engine.update(id, { paramMode: 'patch', params: {} });
    const deadline = Date.now() + 20_000;
    while (env.emu.engine.get(id)?.status !== 'COMPLETE' && Date.now() < deadline) await sleep(50);
    await sleep(1_100);
    const held = env.emu.control.addFault({ service: 'heat', operation: 'get', kind: 'slow', delayMs: 5_000 });
    await env.apply(stackManifest(name, 'heat', spec('two')));
    const exit = await waitExit(crashing, 60_000, 'crash at record-written-during-read');
    expect(exit.code, crashing.logs().slice(-2000)).toBe(137);
    env.emu.control.removeFault(held);
    const crashed = await env.waitStack(name, () => true, 'the Stack');
    expect(crashed.status?.operation).toMatchObject({ type: 'Update', recordedDuringRead: true, observedOperation: 'create' });
    expect(crashed.status?.operation?.issuedAt).toBeUndefined();
    expect(env.counts('heat', name).update).toBe(1);

    const restarted = operator();
    const s = await env.waitStack(name, (x) => isReady(x) && x.status?.outputs?.message === 'two' && x.status.lastAppliedGeneration === 2, 'updated after restart');
    expect(s.status?.operation).toBeUndefined();
    await sleep(500);
    // The outside update and ours.
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 2, delete: 0 });
    await restarted.stop();
  });

  it.each([['after-operation-recorded:delete'], ['after-provider-call:delete'], ['before-finalizer-removed:removeFinalizer']])(
    'delete: %s → exactly one delete, the finalizer released once (T2)',
    async (crashAt) => {
      const name = `d-${crashAt.split(':')[0]}`.slice(0, 40);
      const first = operator();
      await env.apply(stackManifest(name, 'heat', spec('one', { delete: 20 })));
      const ready = await env.waitStack(name, isReady, 'Ready');
      await first.kill();
      const restarted = await crashThenRestart(crashAt, async () => {
        await env.kubectl(['delete', 'stack', name, '-n', env.ns, '--wait=false']);
      });
      await env.waitGone(name);
      await sleep(300);
      expect(env.counts('heat', name)).toMatchObject({ create: 1, delete: 1 });
      const rec = env.emu.engine.get(ready.status?.stackId as string);
      expect(rec === undefined || rec.deleted).toBe(true);
      await restarted.stop();
    },
  );

  it('setDeletionProtection (ros): after-provider-call → mirrored once', async () => {
    const name = 'p-mirror';
    const first = operator();
    await env.apply(stackManifest(name, 'ros', { template: { inline: templateFor('ros', 'p') } }));
    await env.waitStack(name, isReady, 'Ready');
    await first.kill();
    const before = env.counts('ros', name).other;
    const restarted = await crashThenRestart('after-provider-call:setDeletionProtection', () =>
      env.apply(stackManifest(name, 'ros', { template: { inline: templateFor('ros', 'p') }, deletionProtection: true })),
    );
    await env.waitStack(name, (s) => isReady(s) && s.status?.deletionProtection === true, 'mirrored');
    await sleep(500);
    expect(env.counts('ros', name).other - before).toBe(1);
    expect(env.counts('ros', name)).toMatchObject({ create: 1, update: 0 });
    await restarted.stop();
    // Unprotect and delete so the namespace can go.
    const p = operator();
    await env.apply(stackManifest(name, 'ros', { template: { inline: templateFor('ros', 'p') }, deletionProtection: false }));
    await env.waitStack(name, (s) => isReady(s) && s.status?.deletionProtection === false, 'unprotected');
    await p.stop();
  });
});

describe('crash during cancel-update (T4)', () => {
  it.each([['after-operation-recorded:cancelUpdate'], ['after-provider-call:cancelUpdate']])(
    '%s → one cancel, no update until the rollback settled, then the newest spec',
    async (crashAt) => {
      const name = `x-${crashAt.split(':')[0]}`.slice(0, 40);
      const first = operator();
      await env.apply(stackManifest(name, 'heat', spec('one', { update: 250 })));
      await env.waitStack(name, isReady, 'Ready');
      await first.kill();
      const restarted = await crashThenRestart(crashAt, async () => {
        // Long enough (20 s) that the restarted operator, started on a loaded machine, still finds the
        // update running: a cancel recorded but not sent must be sent then (5 s was load-sensitive).
        await env.apply(stackManifest(name, 'heat', spec('two', { update: 1000 })));
        await env.waitStack(name, (s) => s.status?.operation?.type === 'Update' && !!s.status.operation.issuedAt, 'update issued');
        await env.apply(stackManifest(name, 'heat', spec('three', { update: 1 })));
      });
      // While the cancelled update rolls back, no new update is issued.
      const mid = env.counts('heat', name);
      expect(mid.update).toBe(1);
      const s = await env.waitStack(name, (x) => isReady(x) && x.status?.outputs?.message === 'three', 'newest spec applied', 60_000);
      expect(s.status?.lastAppliedGeneration).toBe(s.metadata.generation);
      await sleep(500);
      const c = env.counts('heat', name);
      expect(c).toMatchObject({ create: 1, update: 2 });
      // Exactly one cancel at either crash point: a cancel recorded but not acknowledged is sent again
      // after the restart (same token), an acknowledged one never.
      expect(c.cancel).toBe(1);
      await restarted.stop();
    },
  );
});

describe('operator down or replaced', () => {
  it('T21: an upgrade (graceful stop, new process) with an update in flight resumes without a second update', async () => {
    const name = 'upgrade';
    const old = operator();
    await env.apply(stackManifest(name, 'heat', spec('one', { update: 150 })));
    await env.waitStack(name, isReady, 'Ready');
    await env.apply(stackManifest(name, 'heat', spec('two', { update: 150 })));
    await env.waitStack(name, (s) => s.status?.operation?.type === 'Update' && !!s.status.operation.issuedAt, 'update issued');
    await old.stop();
    expect((await old.exited).code).toBe(0);
    const next = operator();
    const mid = await env.waitStack(name, (s) => cond(s, 'Reconciling')?.reason === 'Updating', 'new process polls the running update');
    expect(mid.status?.operation?.type).toBe('Update');
    await env.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'two', 'update completed', 60_000);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    await next.stop();
  });

  it('T8 (and T19): a Stack deleted while the operator is down waits on its finalizer, then the cloud stack is deleted', async () => {
    const name = 'down-delete';
    const p = operator();
    await env.apply(stackManifest(name, 'rfs', { template: { inline: templateFor('rfs', 'd') } }));
    const ready = await env.waitStack(name, isReady, 'Ready');
    await p.kill();
    await env.kubectl(['delete', 'stack', name, '-n', env.ns, '--wait=false']);
    await sleep(1000);
    const terminating = await env.getStack(name);
    expect(terminating?.metadata.deletionTimestamp).toBeTruthy();
    expect(env.emu.engine.get(ready.status?.stackId as string)?.deleted).toBe(false);
    const back = operator();
    await env.waitGone(name);
    expect(env.counts('rfs', name)).toMatchObject({ create: 1, delete: 1 });
    await back.stop();
  });

  it('T7: edits A→B→C while the operator is stopped converge straight to C with one update', async () => {
    const name = 'abc-stopped';
    const p = operator();
    await env.apply(stackManifest(name, 'heat', spec('A')));
    await env.waitStack(name, isReady, 'Ready');
    await p.stop();
    await env.apply(stackManifest(name, 'heat', spec('B')));
    await env.apply(stackManifest(name, 'heat', spec('C')));
    const q = operator();
    const s = await env.waitStack(name, (x) => isReady(x) && x.status?.outputs?.message === 'C', 'C applied');
    expect(s.status?.lastAppliedGeneration).toBe(3);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    await q.stop();
  });

  it('T7: edits A→B→C while suspended converge straight to C with one update after resume', async () => {
    const name = 'abc-suspend';
    const p = operator();
    await env.apply(stackManifest(name, 'heat', spec('A')));
    await env.waitStack(name, isReady, 'Ready');
    await env.apply(stackManifest(name, 'heat', spec('B', {}, { suspend: true })));
    await env.waitStack(name, (x) => cond(x, 'Ready')?.reason === 'Suspended', 'Suspended');
    await env.apply(stackManifest(name, 'heat', spec('C', {}, { suspend: true })));
    await sleep(500);
    expect(env.counts('heat', name).update).toBe(0);
    await env.apply(stackManifest(name, 'heat', spec('C', {}, { suspend: false })));
    await env.waitStack(name, (x) => isReady(x) && x.status?.outputs?.message === 'C', 'C applied');
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    await p.stop();
  });
});

/** Waits until `p` holds the Lease `lease`. */
async function leads(p: OperatorProcess, lease: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let holder = '';
  while (Date.now() < deadline && !holder.endsWith(`_${p.pid}`)) {
    holder = (await env.kubectl(['get', 'lease', lease, '-n', env.ns, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
    await sleep(200);
  }
  expect(holder.endsWith(`_${p.pid}`), `lease holder ${holder}`).toBe(true);
}

describe('leader failover mid-operation (T11)', () => {
  it('two replicas: the leader dies right after the provider accepted an update; the standby resumes without a second update', async () => {
    const name = 'failover';
    const lease = `rel-${Date.now().toString(36)}`;
    const le = [
      '--leader-elect',
      '--leader-election-id',
      lease,
      '--leader-election-namespace',
      env.ns,
      '--leader-election-lease-duration',
      '3s',
      '--leader-election-renew-deadline',
      '2s',
      '--leader-election-retry-period',
      '500ms',
    ];
    const a = operator('after-provider-call:update', le);
    // A leads before B starts.
    await leads(a, lease);
    const b = operator(undefined, le);
    await env.apply(stackManifest(name, 'heat', spec('one', { update: 100 })));
    await env.waitStack(name, isReady, 'Ready (leader A)');
    await env.apply(stackManifest(name, 'heat', spec('two', { update: 100 })));
    const exit = await waitExit(a, 30_000, 'leader crash after the update call');
    expect(exit.code).toBe(137);
    await env.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'two', 'update completed under leader B', 60_000);
    const holderB = (await env.kubectl(['get', 'lease', lease, '-n', env.ns, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
    expect(holderB.endsWith(`_${b.pid}`)).toBe(true);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    await b.stop();
  });
});

describe('fencing (tenant-safety issue, item 7)', () => {
  it('a leader paused (SIGSTOP) past its lease after recording an update never sends it when it resumes', async () => {
    const name = 'fenced';
    const lease = `fence-${Date.now().toString(36)}`;
    const le = ['--leader-elect', '--leader-election-id', lease, '--leader-election-namespace', env.ns];
    const timing = ['--leader-election-lease-duration', '3s', '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms'];
    const a = operator('after-operation-recorded:update!stop', [...le, ...timing]);
    await leads(a, lease);
    await env.apply(stackManifest(name, 'heat', spec('one')));
    await env.waitStack(name, isReady, 'Ready (leader A)');
    await env.apply(stackManifest(name, 'heat', spec('two')));
    // A records the update, then stops itself before the call.
    await env.waitStack(name, (s) => s.status?.operation?.type === 'Update', 'update recorded by A');
    const stopDeadline = Date.now() + 10_000;
    while (Date.now() < stopDeadline && a.grep('STACK_OPERATOR_CRASH_AT: stopping').length === 0) await sleep(100);
    expect(a.grep('STACK_OPERATOR_CRASH_AT: stopping').length, a.logs().slice(-2000)).toBe(1);
    // B takes over once A's lease runs out, resumes from A's record and sends the update once.
    const b = operator(undefined, [...le, ...timing]);
    await env.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'two', 'update applied under leader B', 60_000);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    // A resumes: it must not send its recorded update.
    a.child.kill('SIGCONT');
    await sleep(3000);
    expect(env.counts('heat', name)).toMatchObject({ create: 1, update: 1 });
    expect(a.grep('provider call skipped').length + (a.alive ? 0 : 1), a.logs().slice(-3000)).toBeGreaterThan(0);
    await b.stop();
  });
});
