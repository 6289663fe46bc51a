// The Stack controller end to end on a real kube-apiserver + etcd with the emulator over real HTTP:
// create, update, cancel-update in its cases, delete with each policy, deletion protection in every
// layer, suspend, ownership, outputs and the provider's Ready condition.
import { join } from 'node:path';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { type OperatorEnv, cond, hot, isReady, providerObjects, stackManifest, startOperatorEnv, templateFor } from './harness.ts';
import { resourcePath } from '../../../src/runtime/kube-client.ts';
import { STACKS } from '../../../src/api/v1alpha1/resources.ts';
import type { StackObject } from '../../../src/stacks/context.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat', 'rfs', 'ros', 'ros-legacy', 'cloudfoundry'] });
  const vap = await kubectl(['apply', '-k', join(repoRoot, 'config', 'admission')]);
  if (vap.code !== 0) throw new Error(vap.stderr);
  await env.apply(stackManifest('vap-probe', 'heat', { template: { inline: hot('p') }, providerRef: { name: 'none' }, deletionProtection: true }));
  await admissionDenies(true);
}, 180_000);

/** Waits (bounded) until the admission policy's state reached the API server's admission plugin. */
async function admissionDenies(denied: boolean): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const r = await kubectl(['delete', 'stack', 'vap-probe', '-n', env.ns, '--dry-run=server']);
    if ((r.code !== 0) === denied) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`admission policy did not become ${denied ? 'effective' : 'inactive'} within 30 s`);
}
afterAll(async () => {
  await env?.stop();
});

const counts = (provider: 'heat' | 'rfs' | 'ros' | 'cloudfoundry', name: string) =>
  Object.values(env.emu.engine.mutationCounts(provider, name))[0] ?? { create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0, stackIds: [] };

async function events(name: string): Promise<string[]> {
  const r = await kubectl(['get', 'events.events.k8s.io', '-n', env.ns, '--field-selector', `regarding.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
  return r.stdout.split(' ').filter(Boolean);
}

describe('heat: create, update, outputs, delete', () => {
  it('creates the stack, becomes Ready at the current generation, writes outputs and events', async () => {
    await env.apply(
      stackManifest('web', 'heat', {
        template: { inline: hot('v1') },
        parameters: { message: 'hello' },
        outputs: { configMapName: 'web-out', secretName: 'web-secret' },
        tags: { team: 'a' },
      }),
    );
    const s = await env.waitStack('web', isReady, 'Ready');
    expect(s.status?.stackId).toBeTruthy();
    expect(s.status?.stackStatus).toBe('CREATE_COMPLETE');
    expect(s.status?.outputs).toEqual({ message: 'hello' });
    expect(s.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    expect(cond(s, 'Reconciling')?.status).toBe('False');
    expect(cond(s, 'Stalled')?.status).toBe('False');
    const cm = await kubectl(['get', 'configmap', 'web-out', '-n', env.ns, '-o', 'jsonpath={.data.message}']);
    expect(cm.stdout).toBe('hello');
    const sec = await kubectl(['get', 'secret', 'web-secret', '-n', env.ns, '-o', 'jsonpath={.data.message}']);
    expect(Buffer.from(sec.stdout, 'base64').toString()).toBe('hello');
    expect(counts('heat', 'web')).toMatchObject({ create: 1, update: 0 });
    // One Event for the create, at its end, saying when it started (written without the reconcile
    // waiting for it: read until it shows, bounded).
    let reasons: string[] = [];
    for (let i = 0; i < 50 && !reasons.includes('Created'); i++) {
      reasons = await events('web');
      if (!reasons.includes('Created')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(reasons).toContain('Created');
    expect(reasons).not.toContain('CreateStarted');
    // kubectl wait works on the conditions.
    const w = await kubectl(['wait', '--for=condition=Ready', `stack/web`, '-n', env.ns, '--timeout=5s']);
    expect(w.code, w.stderr).toBe(0);
  });

  it('a new Stack costs three writes (finalizer, operation record, Ready) and three provider calls (GET, POST, GET) when its create ends within a poll interval', async () => {
    // A provider that polls every 5 s and a create that takes 1 s: one poll sees it complete.
    const [, heat] = providerObjects(env.emu, 'heat', '5s') as [unknown, { metadata: { name: string } }];
    heat.metadata.name = 'heat-poll5';
    await env.apply(heat);
    // Every write to the Stack, as the API server's watch reports it (issue #16: writes per new Stack).
    const ac = new AbortController();
    const writes: StackObject[] = [];
    const lines = await env.client.stream({
      path: resourcePath(STACKS, env.ns),
      query: { watch: 'true', fieldSelector: 'metadata.name=writes' },
      signal: ac.signal,
    });
    const reading = (async () => {
      try {
        for await (const line of lines) {
          const ev = JSON.parse(line) as { type: string; object: StackObject };
          if (ev.type === 'MODIFIED') writes.push(ev.object);
        }
      } catch {
        // aborted below
      }
    })();
    const calls0 = env.emu.control.requestCounts();
    await env.apply(stackManifest('writes', 'heat', { providerRef: { name: 'heat-poll5' }, template: { inline: hot('w', { create: 20 }) } }));
    const ready = await env.waitStack('writes', isReady, 'Ready', 30_000);
    // Ready is the last write: nothing follows it at rest (bounded wait for a stray write or call).
    await new Promise((r) => setTimeout(r, 1_500));
    ac.abort();
    await reading;
    const calls1 = env.emu.control.requestCounts();
    const delta = (k: string) => (calls1[k] ?? 0) - (calls0[k] ?? 0);
    expect({ get: delta('heat:get'), create: delta('heat:create') }).toEqual({ get: 2, create: 1 });
    expect(writes.length).toBe(3);
    const [finalizer, record, last] = writes;
    expect(finalizer?.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    expect(finalizer?.status?.operation).toBeUndefined();
    expect(record?.status?.operation).toMatchObject({ type: 'Create' });
    expect(record?.status?.operation?.issuedAt).toBeUndefined();
    expect(record?.status?.stackId).toBeUndefined();
    // No write of its own for the accepted call: the Ready write carries the stack id.
    expect(last?.metadata.resourceVersion).toBe(ready.metadata.resourceVersion);
    expect(last?.status?.stackId).toBeTruthy();
    expect(last?.status?.stackStatus).toBe('CREATE_COMPLETE');
    expect(last?.status?.operation).toBeUndefined();
  });

  it('a Stack from client-side kubectl apply: cached without managedFields and the last-applied copy, reconciled on a re-apply', async () => {
    const manifest = (v: string) => stackManifest('applied', 'heat', { template: { inline: hot(v) }, parameters: { message: v } });
    const apply = async (v: string) => {
      const r = await kubectl(['apply', '-n', env.ns, '-f', '-'], { input: JSON.stringify(manifest(v)) });
      expect(r.code, r.stderr).toBe(0);
    };
    await apply('a1');
    const s = await env.waitStack('applied', isReady, 'Ready');
    expect(s.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('a1');
    const cached = env.operator.stacks.get(`${env.ns}/applied`);
    expect(cached?.metadata.managedFields).toBeUndefined();
    expect(cached?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(cached?.spec.parameters).toEqual({ message: 'a1' });
    await apply('a2');
    await env.waitStack('applied', (x) => isReady(x) && x.status?.outputs?.['message'] === 'a2', 'Ready with the re-applied spec');
    expect(counts('heat', 'applied')).toMatchObject({ create: 1, update: 1 });
  });

  it('a spec change becomes exactly one update call, then Ready at the new generation', async () => {
    await env.apply(stackManifest('web', 'heat', { template: { inline: hot('v1') }, parameters: { message: 'changed' }, outputs: { configMapName: 'web-out', secretName: 'web-secret' }, tags: { team: 'a' } }));
    const s = await env.waitStack('web', (x) => isReady(x) && x.status?.outputs?.message === 'changed', 'Ready with new output');
    expect(s.status?.lastAppliedGeneration).toBe(s.metadata.generation);
    expect(counts('heat', 'web')).toMatchObject({ create: 1, update: 1 });
    const cm = await kubectl(['get', 'configmap', 'web-out', '-n', env.ns, '-o', 'jsonpath={.data.message}']);
    expect(cm.stdout).toBe('changed');
  });

  it('at rest, re-reconciling writes nothing (resourceVersion stays)', async () => {
    const before = await env.getStack('web');
    await kubectl(['annotate', 'stack', 'web', '-n', env.ns, 'stackoperator.dev/reconcile-requested-at=r1', '--overwrite']);
    await env.waitStack('web', (x) => x.status?.lastHandledReconcileRequest === 'r1', 'reconcile request handled');
    const after1 = await env.getStack('web');
    await new Promise((r) => setTimeout(r, 1500));
    const after2 = await env.getStack('web');
    expect(after2?.metadata.resourceVersion).toBe(after1?.metadata.resourceVersion);
    expect(before?.status?.stackId).toBe(after2?.status?.stackId);
    expect(counts('heat', 'web').update).toBe(1);
  });

  it('delete removes the cloud stack, then releases the finalizer; the condition gauges follow the cache', async () => {
    const gauge = () => register.getSingleMetricAsString('stack_operator_stack_condition');
    expect(await gauge()).toContain(`stack_operator_stack_condition{namespace="${env.ns}",name="web",condition="Ready",status="True"} 1`);
    const id = (await env.getStack('web'))?.status?.stackId as string;
    await kubectl(['delete', 'stack', 'web', '-n', env.ns, '--wait=false']);
    await env.waitGone('web');
    // The informer sees the delete after the API server confirms it: read until it shows, bounded.
    for (let i = 0; i < 50 && (await gauge()).includes(`name="web",`); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gauge()).not.toContain(`namespace="${env.ns}",name="web",`);
    const rec = env.emu.engine.get(id);
    expect(rec === undefined || rec.deleted || rec.status === 'COMPLETE' && rec.action === 'DELETE').toBe(true);
    expect(counts('heat', 'web').delete).toBe(1);
  });
});

describe('cancel-update', () => {
  it('a spec change during a long update cancels it and applies the newest spec (CancelAndUpdate)', async () => {
    await env.apply(stackManifest('supersede', 'heat', { template: { inline: hot('a', { update: 200 }) }, parameters: { message: 'one' } }));
    await env.waitStack('supersede', isReady, 'Ready');
    await env.apply(stackManifest('supersede', 'heat', { template: { inline: hot('a', { update: 200 }) }, parameters: { message: 'two' } }));
    await env.waitStack('supersede', (x) => x.status?.stackStatus === 'UPDATE_IN_PROGRESS', 'update running');
    await env.apply(stackManifest('supersede', 'heat', { template: { inline: hot('a', { update: 1 }) }, parameters: { message: 'three' } }));
    const s = await env.waitStack('supersede', (x) => isReady(x) && x.status?.outputs?.message === 'three', 'newest spec applied', 60_000);
    expect(s.status?.lastAppliedGeneration).toBe(s.metadata.generation);
    const c = counts('heat', 'supersede');
    expect(c.cancel).toBe(1);
    expect(c.update).toBe(2);
    expect(await events('supersede')).toEqual(expect.arrayContaining(['CancelRequested', 'UpdateCancelled']));
  });

  it('the cancel-update annotation cancels the running update: Stalled UpdateCancelled, not re-applied', async () => {
    await env.apply(stackManifest('cancelme', 'ros', { template: { inline: hot('x', { update: 200 }) }, parameters: { message: 'one' } }));
    await env.waitStack('cancelme', isReady, 'Ready');
    await env.apply(stackManifest('cancelme', 'ros', { template: { inline: hot('x', { update: 200 }) }, parameters: { message: 'two' } }));
    await env.waitStack('cancelme', (x) => x.status?.operation?.type === 'Update' && !!x.status.operation.issuedAt, 'update issued');
    await kubectl(['annotate', 'stack', 'cancelme', '-n', env.ns, 'stackoperator.dev/cancel-update=c1']);
    const s = await env.waitStack('cancelme', (x) => cond(x, 'Stalled')?.status === 'True', 'Stalled', 60_000);
    expect(cond(s, 'Stalled')?.reason).toBe('UpdateCancelled');
    expect(cond(s, 'Ready')?.status).toBe('False');
    expect(s.status?.lastHandledCancelRequest).toBe('c1');
    expect(s.status?.outputs?.message ?? 'one').toBe('one');
    await new Promise((r) => setTimeout(r, 1000));
    expect(counts('ros', 'cancelme').update).toBe(1);
    // A reconcile request applies it again.
    await kubectl(['annotate', 'stack', 'cancelme', '-n', env.ns, 'stackoperator.dev/reconcile-requested-at=again']);
    await env.waitStack('cancelme', (x) => x.status?.operation?.type === 'Update' && !!x.status.operation.issuedAt, 'update re-issued');
    expect(counts('ros', 'cancelme').update).toBe(2);
  });

  it('a spec reverted after a cancelled update is applied: the rolled-back stack does not stay Stalled', async () => {
    const one = stackManifest('revert', 'heat', { template: { inline: hot('r') }, parameters: { message: 'one' } });
    await env.apply(one);
    await env.waitStack('revert', isReady, 'Ready');
    await env.apply(stackManifest('revert', 'heat', { template: { inline: hot('r', { update: 200 }) }, parameters: { message: 'two' } }));
    await env.waitStack('revert', (x) => x.status?.operation?.type === 'Update' && !!x.status.operation.issuedAt, 'update issued');
    await kubectl(['annotate', 'stack', 'revert', '-n', env.ns, 'stackoperator.dev/cancel-update=c1']);
    await env.waitStack('revert', (x) => cond(x, 'Stalled')?.reason === 'UpdateCancelled', 'Stalled UpdateCancelled', 60_000);
    // Back to the spec the stack had before: the same desired state as last applied, on a stack that
    // rolled back. docs/troubleshooting.md says a spec change runs an update.
    await env.apply(one);
    const s = await env.waitStack('revert', (x) => isReady(x) && x.status?.lastAppliedGeneration === x.metadata.generation, 'reverted spec applied', 60_000);
    expect(s.status?.stackStatus).toBe('UPDATE_COMPLETE');
    expect(s.status?.outputs?.message).toBe('one');
    expect(s.status?.blockedHash).toBeUndefined();
    expect(counts('heat', 'revert')).toMatchObject({ cancel: 1, update: 2 });
  });

  it('rfs has no cancel: a superseding change waits for the running deployment, then applies', async () => {
    await env.apply(stackManifest('nocancel', 'rfs', { template: { inline: templateFor('rfs', 'r', { update: 40 }) }, parameters: { message: 'one' } }));
    await env.waitStack('nocancel', isReady, 'Ready');
    await env.apply(stackManifest('nocancel', 'rfs', { template: { inline: templateFor('rfs', 'r', { update: 40 }) }, parameters: { message: 'two' } }));
    await env.waitStack('nocancel', (x) => x.status?.operation?.type === 'Update' && !!x.status.operation.issuedAt, 'update issued');
    await env.apply(stackManifest('nocancel', 'rfs', { template: { inline: templateFor('rfs', 'r', { update: 1 }) }, parameters: { message: 'three' } }));
    const waiting = await env.waitStack('nocancel', (x) => cond(x, 'Reconciling')?.reason === 'WaitingForOperation', 'waiting');
    expect(cond(waiting, 'Reconciling')?.message).toContain('cannot cancel');
    await env.waitStack('nocancel', (x) => isReady(x) && x.status?.lastAppliedGeneration === x.metadata.generation, 'newest applied', 60_000);
    expect(counts('rfs', 'nocancel')).toMatchObject({ cancel: 0, update: 2 });
  });
});

describe('deletion protection', () => {
  it('admission denies kubectl delete with a message that says how to proceed', async () => {
    await env.apply(stackManifest('guarded', 'ros', { template: { inline: hot('g') }, deletionProtection: true }));
    await env.waitStack('guarded', isReady, 'Ready');
    const r = await kubectl(['delete', 'stack', 'guarded', '-n', env.ns]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.deletionProtection: true');
    expect(r.stderr).toContain('"deletionProtection":false');
  });

  it('the flag is mirrored to the provider (ros SetDeletionProtection)', async () => {
    const s = await env.waitStack('guarded', (x) => x.status?.deletionProtection === true, 'provider flag');
    const rec = env.emu.engine.get(s.status?.stackId as string);
    expect(rec?.deletionProtection).toBe(true);
  });

  it('a protected Stack deleted anyway (admission off) keeps its stack: Stalled DeletionProtected; unprotecting deletes', async () => {
    await kubectl(['delete', 'validatingadmissionpolicybinding', 'stackoperator.dev-deletion-protection']);
    try {
      // The binding's removal takes a moment to reach the admission plugin.
      await admissionDenies(false);
      const del = await kubectl(['delete', 'stack', 'guarded', '-n', env.ns, '--wait=false']);
      expect(del.code, del.stderr).toBe(0);
      const s = await env.waitStack('guarded', (x) => cond(x, 'Stalled')?.reason === 'DeletionProtected', 'DeletionProtected');
      expect(cond(s, 'Stalled')?.message).toContain('spec.deletionProtection to false');
      expect(env.emu.engine.get(s.status?.stackId as string)?.deleted).toBe(false);
      expect(await events('guarded')).toContain('DeletionProtected');
      await kubectl(['patch', 'stack', 'guarded', '-n', env.ns, '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']);
      await env.waitGone('guarded');
      expect(counts('ros', 'guarded').delete).toBe(1);
    } finally {
      await kubectl(['apply', '-k', join(repoRoot, 'config', 'admission')]);
      await admissionDenies(true);
    }
  });

  it('a provider-side flag set outside Kubernetes blocks deletion', async () => {
    await env.apply(stackManifest('outside', 'rfs', { template: { inline: templateFor('rfs', 'o') } }));
    const s = await env.waitStack('outside', isReady, 'Ready');
    env.emu.engine.setDeletionProtection(s.status?.stackId as string, true);
    await kubectl(['delete', 'stack', 'outside', '-n', env.ns, '--wait=false']);
    const blocked = await env.waitStack('outside', (x) => cond(x, 'Stalled')?.reason === 'DeletionProtected', 'blocked');
    expect(cond(blocked, 'Stalled')?.message).toContain('outside Kubernetes');
    env.emu.engine.setDeletionProtection(s.status?.stackId as string, false);
    await kubectl(['annotate', 'stack', 'outside', '-n', env.ns, 'stackoperator.dev/reconcile-requested-at=go']);
    await env.waitGone('outside');
  });
});

describe('deletion policies', () => {
  it('Retain leaves the cloud stack', async () => {
    await env.apply(stackManifest('keep', 'heat', { template: { inline: hot('k') }, deletionPolicy: 'Retain' }));
    const s = await env.waitStack('keep', isReady, 'Ready');
    await kubectl(['delete', 'stack', 'keep', '-n', env.ns, '--wait=false']);
    await env.waitGone('keep');
    expect(env.emu.engine.get(s.status?.stackId as string)?.deleted).toBe(false);
    expect(counts('heat', 'keep').delete).toBe(0);
  });

  it('RetainResources on ros deletes the stack record with RetainAllResources', async () => {
    await env.apply(stackManifest('retainres', 'ros', { template: { inline: hot('k') }, deletionPolicy: 'RetainResources' }));
    await env.waitStack('retainres', isReady, 'Ready');
    await kubectl(['delete', 'stack', 'retainres', '-n', env.ns, '--wait=false']);
    await env.waitGone('retainres');
    expect(counts('ros', 'retainres').delete).toBe(1);
  });

  it('RetainResources on heat is Stalled with advice', async () => {
    await env.apply(stackManifest('noretain', 'heat', { template: { inline: hot('k') }, deletionPolicy: 'RetainResources' }));
    await env.waitStack('noretain', isReady, 'Ready');
    await kubectl(['delete', 'stack', 'noretain', '-n', env.ns, '--wait=false']);
    const s = await env.waitStack('noretain', (x) => cond(x, 'Stalled')?.reason === 'RetainResourcesUnsupported', 'Stalled');
    expect(cond(s, 'Stalled')?.message).toContain('Retain');
    await kubectl(['patch', 'stack', 'noretain', '-n', env.ns, '--type=merge', '-p', '{"spec":{"deletionPolicy":"Delete"}}']);
    await env.waitGone('noretain');
  });
});

describe('every provider type', () => {
  it.each(['rfs', 'ros', 'ros-legacy'] as const)('%s: create → Ready → update → delete', async (kind) => {
    const name = `each-${kind}`;
    await env.apply(stackManifest(name, kind, { template: { inline: templateFor(kind, 'p') }, parameters: { message: 'one' } }));
    await env.waitStack(name, isReady, 'Ready');
    await env.apply(stackManifest(name, kind, { template: { inline: templateFor(kind, 'p') }, parameters: { message: 'two' } }));
    await env.waitStack(name, (x) => isReady(x) && x.status?.lastAppliedGeneration === 2, 'updated');
    await kubectl(['delete', 'stack', name, '-n', env.ns, '--wait=false']);
    await env.waitGone(name);
  });

  it('cloudfoundry: the app is created, Ready, and deleted (deployments need a staged droplet)', async () => {
    await env.apply(stackManifest('each-cf', 'cloudfoundry', { template: { inline: templateFor('cloudfoundry', 'c') }, parameters: { GREETING: 'hi' } }));
    const s = await env.waitStack('each-cf', isReady, 'Ready');
    expect(s.status?.stackId).toBeTruthy();
    await kubectl(['delete', 'stack', 'each-cf', '-n', env.ns, '--wait=false']);
    await env.waitGone('each-cf');
    expect(counts('cloudfoundry', 'each-cf').delete).toBe(1);
  });

  it('the provider objects report Ready', async () => {
    for (const p of ['heat', 'rfs', 'ros', 'ros-legacy', 'cloudfoundry']) {
      const r = await kubectl(['wait', '--for=condition=Ready', `stackprovider/${p}`, '-n', env.ns, '--timeout=20s']);
      expect(r.code, `${p}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('ownership, suspend, bad input', () => {
  it('a second Stack with the same stackName is Stalled StackNameConflict and never touches the first', async () => {
    await env.apply(stackManifest('owner-a', 'heat', { stackName: 'shared-name', template: { inline: hot('a') } }));
    await env.waitStack('owner-a', isReady, 'Ready');
    await env.apply(stackManifest('owner-b', 'heat', { stackName: 'shared-name', template: { inline: hot('b') } }));
    const b = await env.waitStack('owner-b', (x) => cond(x, 'Stalled')?.reason === 'StackNameConflict', 'conflict');
    // Owned by a live Stack: the advice is another name, never the adopt annotation (it would not apply).
    expect(cond(b, 'Stalled')?.message).toContain('choose another spec.stackName');
    expect(cond(b, 'Stalled')?.message).toContain('never adopted');
    await kubectl(['delete', 'stack', 'owner-b', '-n', env.ns, '--wait=false']);
    await env.waitGone('owner-b');
    const a = await env.getStack('owner-a');
    expect(env.emu.engine.get(a?.status?.stackId as string)?.deleted).toBe(false);
    expect(counts('heat', 'shared-name')).toMatchObject({ create: 1, update: 0, delete: 0 });
  });

  it('suspend makes no provider calls; Ready keeps its value with reason Suspended', async () => {
    await env.apply(stackManifest('paused', 'heat', { template: { inline: hot('p') }, parameters: { message: 'one' } }));
    await env.waitStack('paused', isReady, 'Ready');
    env.emu.engine.resetCounts();
    await env.apply(stackManifest('paused', 'heat', { template: { inline: hot('p') }, parameters: { message: 'two' }, suspend: true }));
    const s = await env.waitStack('paused', (x) => cond(x, 'Ready')?.reason === 'Suspended', 'Suspended');
    expect(cond(s, 'Ready')?.status).toBe('True');
    await new Promise((r) => setTimeout(r, 1000));
    expect(counts('heat', 'paused').update).toBe(0);
    await env.apply(stackManifest('paused', 'heat', { template: { inline: hot('p') }, parameters: { message: 'two' }, suspend: false }));
    await env.waitStack('paused', (x) => isReady(x) && x.status?.outputs?.message === 'two', 'resumed');
  });

  it('a missing provider is Stalled ProviderNotFound, and recovers when it appears', async () => {
    await env.apply(stackManifest('orphan', 'heat', { template: { inline: hot('o') }, providerRef: { name: 'later' } }));
    const s = await env.waitStack('orphan', (x) => cond(x, 'Stalled')?.reason === 'ProviderNotFound', 'ProviderNotFound');
    expect(cond(s, 'Stalled')?.message).toContain('later');
    const heat = (await kubectl(['get', 'stackprovider', 'heat', '-n', env.ns, '-o', 'json'])).stdout;
    const obj = JSON.parse(heat) as { spec: unknown };
    await env.apply({ apiVersion: 'stackoperator.dev/v1alpha1', kind: 'StackProvider', metadata: { name: 'later' }, spec: obj.spec });
    await env.waitStack('orphan', isReady, 'Ready after the provider appeared');
  });

  it('an invalid template is Stalled InvalidSpec naming the problem, with no retry storm', async () => {
    await env.apply(stackManifest('broken', 'heat', { template: { inline: { heat_template_version: '2018-08-31', resources: { x: { type: 'OS::Nova::Server' } } } } }));
    const s = await env.waitStack('broken', (x) => cond(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(cond(s, 'Stalled')?.reason).toBe('InvalidSpec');
    const before = counts('heat', 'broken').rejected + counts('heat', 'broken').create;
    await new Promise((r) => setTimeout(r, 1500));
    expect(counts('heat', 'broken').rejected + counts('heat', 'broken').create).toBe(before);
  });

  it('wrong credentials make the provider not Ready and the Stack Stalled Unauthorized', async () => {
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-creds' }, stringData: { username: 'demo', password: 'wrong' } });
    const heat = JSON.parse((await kubectl(['get', 'stackprovider', 'heat', '-n', env.ns, '-o', 'json'])).stdout) as { spec: { heat: Record<string, unknown> } };
    await env.apply({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'StackProvider',
      metadata: { name: 'badheat' },
      spec: { ...heat.spec, heat: { ...heat.spec.heat, credentialsSecretRef: { name: 'bad-creds' } } },
    });
    await env.apply(stackManifest('denied', 'heat', { template: { inline: hot('d') }, providerRef: { name: 'badheat' } }));
    const s = await env.waitStack('denied', (x) => cond(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(cond(s, 'Stalled')?.reason).toBe('Unauthorized');
    const p = await kubectl(['wait', '--for=condition=Ready=False', 'stackprovider/badheat', '-n', env.ns, '--timeout=20s']);
    expect(p.code, p.stderr).toBe(0);
  });
});
