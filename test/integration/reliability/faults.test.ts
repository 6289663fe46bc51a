// Reliability scenarios with the operator in-process (test/integration/stacks/harness.ts): stale-cache
// replays (T5, T6), a concurrent user edit during status writes (T12), an invalid spec then revert
// (T13), provider 429 / 5xx / dropped connections / slow answers (T14), a long operation that does not
// block other Stacks (T15), no status churn at rest (T20) and namespace deletion with a protected Stack
// (T18, last: it deletes the operator's namespace). docs/reliability.md maps every T-number.
import { AcceptedCalls } from '../../../src/stacks/accepted-calls.ts';
import { LastViews } from '../../../src/stacks/record-during-read.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/runtime/errors.ts';
import { STACK_PROVIDERS } from '../../../src/api/v1alpha1/resources.ts';
import { CachedReader } from '../../../src/stacks/cached-reader.ts';
import type { ProviderObject, StackContext, StackObject } from '../../../src/stacks/context.ts';
import { StackReconciler } from '../../../src/stacks/reconciler.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { kubectl, uniqueName } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv, templateFor } from '../stacks/harness.ts';
import { sleep } from './env.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat', 'rfs'] });
}, 120_000);
afterAll(async () => {
  await env?.stop();
});

const counts = (provider: 'heat' | 'rfs', name: string) => {
  const out = { create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0 };
  for (const [k, v] of Object.entries(env.emu.engine.mutationCounts(provider, name))) {
    if (!k.endsWith(`/${name}`)) continue;
    for (const f of Object.keys(out) as (keyof typeof out)[]) out[f] += v[f];
  }
  return out;
};

/** A StackContext like the operator's, whose Stack cache answers `stale` for its key: a replay of an old view. */
async function staleContext(stale: StackObject): Promise<StackContext> {
  const provider = await env.client.get<ProviderObject>(STACK_PROVIDERS, env.ns, stale.spec.providerRef.name);
  const fakeInformer = <T>(obj: T) => ({ get: () => obj, getObject: () => obj, list: () => [obj] }) as unknown as StackContext['stacks'];
  return {
    client: env.client,
    stacks: fakeInformer(stale),
    providers: fakeInformer(provider) as unknown as StackContext['providers'],
    clusterProviders: { get: () => undefined, getObject: () => undefined, list: () => [] } as unknown as StackContext['clusterProviders'],
    reader: new CachedReader(env.client, 0),
    providerClients: env.operator.providerClients,
    events: { record: () => undefined },
    clock: { now: () => Date.now() },
    random: () => 0.5,
    log: silentLogger,
    seesAllNamespaces: false,
    mayMutate: () => true,
    acceptedCalls: new AcceptedCalls(),
    lastViews: new LastViews(),
  };
}

const replayReconciler = new StackReconciler({
  defaults: { pollIntervalMs: 200, resyncIntervalMs: 1_000 },
  planner: { retryBaseMs: 300, retryCapMs: 2000, createVisibilityGraceMs: 2000, timeoutGraceMs: 0 },
});

async function replay(stale: StackObject): Promise<unknown> {
  const ctx = await staleContext(stale);
  const info = { reconcileID: 'replay', log: silentLogger, requeues: 0, primarySynced: true };
  try {
    return await replayReconciler.reconcile(`${env.ns}/${stale.metadata.name}`, ctx, new AbortController().signal, info);
  } catch (err) {
    return err;
  }
}

describe('stale views (T5, T6)', () => {
  it('T5: replaying a deleted Stack after a same-name re-create (new UID) never touches the new cloud stack', async () => {
    await env.apply(stackManifest('reborn', 'heat', { template: { inline: hot('r') }, parameters: { message: 'first' } }));
    const old = await env.waitStack('reborn', isReady, 'Ready');
    await kubectl(['delete', 'stack', 'reborn', '-n', env.ns, '--wait=false']);
    await env.waitGone('reborn');
    await env.apply(stackManifest('reborn', 'heat', { template: { inline: hot('r') }, parameters: { message: 'second' } }));
    const now = await env.waitStack('reborn', isReady, 'Ready again');
    expect(now.metadata.uid).not.toBe(old.metadata.uid);
    const before = counts('heat', 'reborn');
    // The old object as a stale cache would show it: at rest, and as a stale deletion event.
    const r1 = await replay({ ...old, spec: { ...old.spec, parameters: { message: 'stale' } }, metadata: { ...old.metadata, generation: (old.metadata.generation ?? 1) + 1 } });
    const r2 = await replay({ ...old, metadata: { ...old.metadata, deletionTimestamp: new Date().toISOString() } });
    expect(r1 instanceof ConflictError || (r1 as { requeueAfterMs?: number }).requeueAfterMs !== undefined || (r1 as { done?: boolean }).done === true, String(r1)).toBe(true);
    expect(r2 instanceof ConflictError || (r2 as { requeueAfterMs?: number }).requeueAfterMs !== undefined || (r2 as { done?: boolean }).done === true, String(r2)).toBe(true);
    await sleep(500);
    expect(counts('heat', 'reborn')).toEqual(before);
    const rec = env.emu.engine.get(now.status?.stackId as string);
    expect(rec?.deleted).toBe(false);
    expect((await env.getStack('reborn'))?.status?.outputs?.message).toBe('second');
  });

  it('T6: replaying the pre-write object after the operator acted on it makes no second provider call (resourceVersion precondition)', async () => {
    await env.apply(stackManifest('stale6', 'heat', { template: { inline: hot('s', { update: 20 }) }, parameters: { message: 'one' } }));
    await env.waitStack('stale6', isReady, 'Ready');
    let preWrite: StackObject | undefined;
    const off = env.operator.stacks.onUpdate((_o, n) => {
      if (n.metadata.name === 'stale6' && n.metadata.generation === 2 && !preWrite) preWrite = structuredClone(n);
    });
    await env.apply(stackManifest('stale6', 'heat', { template: { inline: hot('s', { update: 20 }) }, parameters: { message: 'two' } }));
    await env.waitStack('stale6', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'updated');
    off();
    expect(preWrite, 'the user edit was seen before the operator wrote').toBeDefined();
    expect(counts('heat', 'stale6').update).toBe(1);
    const r = await replay(preWrite as StackObject);
    expect(r, 'the replay is refused by the status precondition').toBeInstanceOf(ConflictError);
    await sleep(300);
    expect(counts('heat', 'stale6').update).toBe(1);
  });
});

describe('concurrent edits and bad specs (T12, T13)', () => {
  it('T12: user edits racing the status writes of a running update: status only through /status, converges, one update per applied generation', async () => {
    await env.apply(stackManifest('racy', 'heat', { template: { inline: hot('r', { update: 50 }) }, parameters: { message: 'one' } }));
    await env.waitStack('racy', isReady, 'Ready');
    await env.apply(stackManifest('racy', 'heat', { template: { inline: hot('r', { update: 50 }) }, parameters: { message: 'two' } }));
    // 20 metadata edits (no generation change) while the operator writes status.
    for (let i = 0; i < 20; i++) {
      await kubectl(['label', 'stack', 'racy', '-n', env.ns, `touch=t${i}`, '--overwrite']);
    }
    const s = await env.waitStack('racy', (x) => isReady(x) && x.status?.outputs?.message === 'two', 'converged', 60_000);
    expect(s.metadata.labels?.touch).toBe('t19');
    expect(counts('heat', 'racy')).toMatchObject({ create: 1, update: 1 });
    // The operator never wrote the spec: its field manager owns only status (and the finalizer).
    const full = JSON.parse((await kubectl(['get', 'stack', 'racy', '-n', env.ns, '-o', 'json', '--show-managed-fields'])).stdout) as {
      metadata: { managedFields: { manager: string; subresource?: string; fieldsV1: Record<string, unknown> }[] };
    };
    for (const mf of full.metadata.managedFields) {
      if (mf.manager === 'test' || mf.manager.startsWith('kubectl')) continue;
      expect(Object.keys(mf.fieldsV1), `${mf.manager} ${mf.subresource ?? ''}`).not.toContain('f:spec');
    }
  });

  it('T13: an invalid spec is Stalled with a reason; the revert is Ready with the earlier cloud stack unchanged', async () => {
    await env.apply(stackManifest('revert', 'heat', { template: { inline: hot('v') }, parameters: { message: 'good' } }));
    const good = await env.waitStack('revert', isReady, 'Ready');
    await env.apply(stackManifest('revert', 'heat', { template: { inline: { heat_template_version: '2018-08-31', resources: { x: { type: 'OS::No::Such' } } } }, parameters: { message: 'good' } }));
    const bad = await env.waitStack('revert', (x) => cond(x, 'Stalled')?.status === 'True' && x.status?.observedGeneration === 2, 'Stalled');
    expect(cond(bad, 'Stalled')?.reason).toBe('InvalidSpec');
    expect(cond(bad, 'Ready')?.status).toBe('False');
    // Rejected at admission: an unknown enum value.
    const adm = await kubectl(['apply', '-n', env.ns, '-f', '-'], {
      input: JSON.stringify(stackManifest('revert-adm', 'heat', { template: { inline: hot('v') }, deletionPolicy: 'Shred' })),
    });
    expect(adm.code).not.toBe(0);
    expect(adm.stderr).toContain('deletionPolicy');
    await env.apply(stackManifest('revert', 'heat', { template: { inline: hot('v') }, parameters: { message: 'good' } }));
    const back = await env.waitStack('revert', (x) => isReady(x) && x.metadata.generation === 3, 'Ready after revert');
    expect(back.status?.stackId).toBe(good.status?.stackId);
    expect(back.status?.outputs?.message).toBe('good');
    expect(counts('heat', 'revert')).toMatchObject({ create: 1, update: 0, delete: 0 });
  });
});

describe('provider faults and long operations (T14, T15)', () => {
  it('T14: 503, 429, dropped connections and slow answers: backoff, a reason in Reconciling, no duplicate, other Stacks progress', async () => {
    await env.apply(stackManifest('faulty', 'heat', { template: { inline: hot('f') }, parameters: { message: 'one' } }));
    await env.waitStack('faulty', isReady, 'Ready');
    env.emu.control.resetCounters();
    const rules = [
      env.emu.control.addFault({ service: 'heat', operation: 'update', kind: 'error', status: 503, times: 2 }),
      env.emu.control.addFault({ service: 'heat', operation: 'update', kind: 'error', status: 429, times: 2 }),
      env.emu.control.addFault({ service: 'heat', operation: 'update', kind: 'drop', times: 1 }),
      env.emu.control.addFault({ service: 'heat', operation: 'get', kind: 'slow', delayMs: 1500, times: 2 }),
      env.emu.control.addFault({ service: 'heat', operation: 'get', kind: 'error', status: 500, times: 3 }),
    ];
    void rules;
    await env.apply(stackManifest('faulty', 'heat', { template: { inline: hot('f') }, parameters: { message: 'two' } }));
    // Meanwhile a Stack on another provider is not held up.
    await env.apply(stackManifest('bystander', 'rfs', { template: { inline: templateFor('rfs', 'b') } }));
    await env.waitStack('bystander', isReady, 'bystander Ready', 30_000);
    const s = await env.waitStack('faulty', (x) => isReady(x) && x.status?.outputs?.message === 'two', 'converged through faults', 90_000);
    expect(s.status?.lastAppliedGeneration).toBe(2);
    // The dropped connection may or may not have reached the engine before it was cut (it is cut before):
    // exactly one accepted update either way.
    expect(counts('heat', 'faulty')).toMatchObject({ create: 1, update: 1 });
    const req = env.emu.control.requestCounts();
    expect(req['heat:update'] ?? 0, JSON.stringify(req)).toBeLessThanOrEqual(12);
    env.emu.control.clearFaults();
  });

  it('T14: a Reconciling reason is shown while the provider keeps failing', async () => {
    await env.apply(stackManifest('throttled', 'heat', { template: { inline: hot('t') }, parameters: { message: 'one' } }));
    await env.waitStack('throttled', isReady, 'Ready');
    const id = env.emu.control.addFault({ service: 'heat', operation: 'update', kind: 'error', status: 429 });
    try {
      await env.apply(stackManifest('throttled', 'heat', { template: { inline: hot('t') }, parameters: { message: 'two' } }));
      const s = await env.waitStack('throttled', (x) => cond(x, 'Reconciling')?.status === 'True' && ['Throttled', 'ProviderUnavailable', 'RetryScheduled'].includes(cond(x, 'Reconciling')?.reason ?? ''), 'Reconciling with a reason');
      expect(cond(s, 'Stalled')?.status).not.toBe('True');
      // Backoff: over 3 s the operator sends a bounded number of update requests.
      const t0 = env.emu.control.requestCounts();
      await sleep(3000);
      const t1 = env.emu.control.requestCounts();
      expect((t1['heat:update'] ?? 0) - (t0['heat:update'] ?? 0)).toBeLessThanOrEqual(10);
    } finally {
      env.emu.control.removeFault(id);
    }
    await env.waitStack('throttled', (x) => isReady(x) && x.status?.outputs?.message === 'two', 'recovered', 60_000);
    expect(counts('heat', 'throttled')).toMatchObject({ create: 1, update: 1 });
  });

  it('T15: a long create (20 s, scaled) does not block other Stacks', async () => {
    // 400 emulated seconds at operationSpeed 0.05. (A create that waits forever would also block the
    // Stack's deletion: deletion waits for a running create to finish, docs/reliability.md.)
    await env.apply(stackManifest('slowpoke', 'heat', { template: { inline: hot('s', { create: 400 }) } }));
    await env.waitStack('slowpoke', (x) => x.status?.stackStatus === 'CREATE_IN_PROGRESS', 'in progress');
    const names = ['quick-1', 'quick-2', 'quick-3', 'quick-4', 'quick-5'];
    for (const n of names) await env.apply(stackManifest(n, n.endsWith('1') ? 'rfs' : 'heat', { template: { inline: n.endsWith('1') ? templateFor('rfs', n) : hot(n) } }));
    for (const n of names) await env.waitStack(n, isReady, `${n} Ready while slowpoke runs`, 30_000);
    expect((await env.getStack('slowpoke'))?.status?.stackStatus).toBe('CREATE_IN_PROGRESS');
    await kubectl(['delete', 'stack', 'slowpoke', ...names, '-n', env.ns, '--wait=false']);
    for (const n of names) await env.waitGone(n);
    await env.waitGone('slowpoke', 60_000);
  });
});

describe('quiet at rest (T20)', () => {
  it('resyncs read the provider but write no status; lastTransitionTime does not move', async () => {
    // Resync at rest every second: the operator's default applies to a provider that sets no
    // resyncInterval (admission keeps a provider's own value at 30 s or more).
    const fast = await startOperatorEnv({ providers: ['heat'], operator: { resyncIntervalMs: 1000 } });
    try {
      await resyncWritesNothing(fast);
    } finally {
      await fast.stop();
    }
  });
});

/** The Stack is Ready; then resyncs read the provider and write nothing. */
async function resyncWritesNothing(env: OperatorEnv): Promise<void> {
  await env.apply(stackManifest('quiet', 'heat', { template: { inline: hot('q') } }));
  const s0 = await env.waitStack('quiet', isReady, 'Ready');
  await sleep(1500);
  const s1 = await env.getStack('quiet');
  env.emu.control.resetCounters();
  // The resync (1 s here) reads the provider: wait (bounded) until it did, twice.
  const deadline = Date.now() + 15_000;
  let reads = 0;
  while (Date.now() < deadline && reads < 2) {
    await sleep(250);
    reads = Object.entries(env.emu.control.requestCounts())
      .filter(([k]) => k.startsWith('heat:get'))
      .reduce((n, [, v]) => n + v, 0);
  }
  expect(reads, JSON.stringify(env.emu.control.requestCounts())).toBeGreaterThanOrEqual(2);
  const s2 = await env.getStack('quiet');
  expect(s2?.metadata.resourceVersion).toBe(s1?.metadata.resourceVersion);
  expect(cond(s2, 'Ready')?.lastTransitionTime).toBe(cond(s0, 'Ready')?.lastTransitionTime);
}

describe('namespace deletion with a protected Stack (T18)', () => {
  it('the namespace stays Terminating while a protected Stack is in it; unprotecting lets it finish; unprotected Stacks are deleted', async () => {
    const vap = await kubectl(['apply', '-k', join(repoRoot, 'config', 'admission')]);
    expect(vap.code, vap.stderr).toBe(0);
    // Credentials and provider outside the namespace (a ClusterStackProvider), so deletion of the
    // namespace's own objects cannot strand the Stacks.
    const credNs = uniqueName('rel-creds');
    await kubectl(['create', 'namespace', credNs]);
    const heat = JSON.parse((await kubectl(['get', 'stackprovider', 'heat', '-n', env.ns, '-o', 'json'])).stdout) as { spec: { heat: Record<string, unknown> } & Record<string, unknown> };
    const secret = JSON.parse((await kubectl(['get', 'secret', 'heat-creds', '-n', env.ns, '-o', 'json'])).stdout) as { data: Record<string, string> };
    const sec = await kubectl(['apply', '-n', credNs, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'heat-creds' }, data: secret.data }) });
    expect(sec.code, sec.stderr).toBe(0);
    const cspName = uniqueName('rel-heat');
    const csp = await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'stackoperator.dev/v1alpha1',
        kind: 'ClusterStackProvider',
        metadata: { name: cspName },
        spec: { ...heat.spec, heat: { ...heat.spec.heat, credentialsSecretRef: { name: 'heat-creds', namespace: credNs } } },
      }),
    });
    expect(csp.code, csp.stderr).toBe(0);
    try {
      const ref = { providerRef: { kind: 'ClusterStackProvider', name: cspName } };
      await env.apply(stackManifest('ns-guarded', 'heat', { ...ref, template: { inline: hot('g') }, deletionProtection: true }));
      await env.apply(stackManifest('ns-free', 'heat', { ...ref, template: { inline: hot('f') } }));
      const g = await env.waitStack('ns-guarded', isReady, 'Ready');
      const f = await env.waitStack('ns-free', isReady, 'Ready');
      // Admission must be effective before the namespace goes.
      for (let i = 0; i < 150; i++) {
        const r = await kubectl(['delete', 'stack', 'ns-guarded', '-n', env.ns, '--dry-run=server']);
        if (r.code !== 0) break;
        await sleep(200);
      }
      await kubectl(['delete', 'namespace', env.ns, '--wait=false']);
      await env.waitGone('ns-free', 60_000);
      expect(env.emu.engine.get(f.status?.stackId as string)?.deleted ?? true).toBe(true);
      await sleep(3000);
      const still = await env.getStack('ns-guarded');
      expect(still, 'the protected Stack survives the namespace deletion').toBeDefined();
      expect(env.emu.engine.get(g.status?.stackId as string)?.deleted).toBe(false);
      const ns = JSON.parse((await kubectl(['get', 'namespace', env.ns, '-o', 'json'])).stdout) as { status: { phase: string } };
      expect(ns.status.phase).toBe('Terminating');
      await kubectl(['patch', 'stack', 'ns-guarded', '-n', env.ns, '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']);
      await env.waitGone('ns-guarded', 90_000);
      expect(env.emu.engine.get(g.status?.stackId as string)?.deleted ?? true).toBe(true);
    } finally {
      await kubectl(['delete', 'clusterstackprovider', cspName, '--wait=false']);
      await kubectl(['delete', 'namespace', credNs, '--wait=false']);
    }
  });
});
