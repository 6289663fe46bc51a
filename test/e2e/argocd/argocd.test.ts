// GitOps for real (issue #19): a real Argo CD (test/env/argocd) syncs Stacks from a git repository
// served on loopback, with the operator and the emulator running. Every assertion reads what Argo CD
// itself reports (Application .status.health / .status.sync / .status.resources[].health /
// .status.operationState) or what Argo CD's own Lua did (resource actions run by argocd-server), with
// the emulator as the oracle for provider calls. argocd-cm is exactly what config/argocd produces.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/devenv/paths.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, hot, isReady, providerObjects, stackManifest, startOperatorEnv } from '../../integration/stacks/harness.ts';
import { type Application, type GitOps, argocdCmFromChart, argocdCmFromKustomize, health, startGitOps, synced } from './harness.ts';

let env: OperatorEnv;
let g: GitOps;

beforeAll(async () => {
  const cm = await argocdCmFromKustomize();
  // The install path: the chart's argocd.healthCheck.enabled renders exactly these keys.
  expect(await argocdCmFromChart()).toEqual(cm);
  env = await startOperatorEnv({ providers: [] });
  g = await startGitOps(env, cm);
  process.stderr.write(`[argocd] timings ${JSON.stringify(g.argo.timings)}\n`);
}, 3_000_000);

afterAll(async () => {
  await g?.stop();
  await env?.stop();
});

type Waits = { create?: number; update?: number; delete?: number };
const stack = (name: string, message: string, waits: Waits = {}, extra: Record<string, unknown> = {}) =>
  stackManifest(name, 'heat', { template: { inline: hot('default', waits) }, parameters: { message }, ...extra });

async function stacksReady(names: string[]): Promise<boolean> {
  for (const n of names) {
    const s = await env.getStack(n);
    if (!s || !isReady(s)) return false;
  }
  return true;
}

const counts = (s: StackObject | undefined) =>
  Object.values(env.emu.engine.mutationCounts('heat')).find((c) => c.stackIds.includes(s?.status?.stackId ?? '-')) ?? { create: 0, update: 0, delete: 0, cancel: 0 };

/**
 * Polls the Application until it is Healthy and synced at sha, recording every health it showed; at
 * each Healthy sample every named Stack must already be Ready (it can only get "more ready" between
 * the two reads, so a Healthy shown too early fails here).
 */
async function healthyOnlyWhenReady(app: string, sha: string, names: string[], timeoutMs = 90_000): Promise<{ seen: Set<string>; app: Application }> {
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const a = await g.getApp(app);
    const h = health(a) ?? 'None';
    seen.add(h);
    // Only once Argo CD compared the live objects with sha and found them synced does its health speak
    // for that revision (before, it is the health of what the previous sync applied).
    if (h === 'Healthy' && synced(a, sha)) {
      expect(await stacksReady(names), `Argo CD showed ${app} Healthy at ${sha} before every Stack was Ready`).toBe(true);
      return { seen, app: a };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Application ${app} did not become Healthy at ${sha}; seen ${[...seen].join(', ')}\n${JSON.stringify((await g.getApp(app)).status, null, 1)}`);
}

describe('an Application with a StackProvider, its Secret and three Stacks', () => {
  let sha = '';
  it('syncs; is Progressing while they are created and Healthy only once every Stack is Ready', async () => {
    sha = await g.commit(
      {
        'main/provider.yaml': providerObjects(env.emu, 'heat'),
        'main/a.yaml': [stack('a', 'v1', { create: 20, update: 100 })],
        'main/b.yaml': [stack('b', 'v1', { create: 40 })],
        'main/c.yaml': [stack('c', 'v1', { create: 60 }, { deletionProtection: true })],
      },
      'a provider and three stacks',
    );
    await g.application('main', 'main');
    const { seen } = await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c']);
    expect(seen).toContain('Progressing');
    expect(await g.resourceHealth('main', 'StackProvider', 'heat')).toEqual({ status: 'Healthy', message: 'Connected: credentials accepted by heat endpoint' });
    for (const n of ['a', 'b', 'c']) expect((await g.resourceHealth('main', 'Stack', n))?.status).toBe('Healthy');
  });

  it('a commit that changes a parameter: Progressing while the Stack updates, then Healthy; exactly one update at the provider', async () => {
    const before = { a: counts(await env.getStack('a')), b: counts(await env.getStack('b')), c: counts(await env.getStack('c')) };
    sha = await g.commit({ 'main/a.yaml': [stack('a', 'v2', { create: 20, update: 100 })] }, 'a: message v2');
    const { seen } = await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c']);
    expect(seen).toContain('Progressing');
    const a = await env.getStack('a');
    expect(a?.status?.outputs).toEqual({ message: 'v2' });
    expect(counts(a).update - before.a.update).toBe(1);
    expect(counts(await env.getStack('b')).update - before.b.update).toBe(0);
    expect(counts(await env.getStack('c')).update - before.c.update).toBe(0);
  });

  it('Degraded with the Stack\'s own message while one is Stalled; Healthy again once it is removed from git', async () => {
    const bad = stackManifest('bad', 'heat', {
      template: { inline: { heat_template_version: '2018-08-31', resources: { app: { type: 'OS::Nova::Servr' } } } },
    });
    sha = await g.commit({ 'main/bad.yaml': [bad] }, 'a broken template');
    await g.waitApp('main', (x) => health(x) === 'Degraded' && synced(x, sha), 'Degraded');
    const s = await env.getStack('bad');
    const stalled = cond(s, 'Stalled');
    expect(stalled?.status).toBe('True');
    expect(await g.resourceHealth('main', 'Stack', 'bad')).toEqual({ status: 'Degraded', message: `${stalled?.reason}: ${stalled?.message}` });
    sha = await g.commit({ 'main/bad.yaml': null }, 'remove the broken stack');
    await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c']);
    await env.waitGone('bad', 60_000);
  });

  it('Suspended while a Stack awaits approval; the approve action (Argo CD\'s Lua) applies the plan', async () => {
    sha = await g.commit({ 'main/gated.yaml': [stack('gated', 'v1', { create: 20 }, { approval: { mode: 'Manual' } })] }, 'a gated stack');
    await g.waitApp('main', (x) => health(x) === 'Suspended' && synced(x, sha), 'Suspended');
    const s = await env.getStack('gated');
    const planId = s?.status?.plan?.id;
    expect(planId).toBeTruthy();
    const r = await g.resourceHealth('main', 'Stack', 'gated');
    expect(r?.status).toBe('Suspended');
    expect(r?.message).toMatch(new RegExp(`^AwaitingApproval: plan ${planId}`));
    expect(counts(s).create).toBe(0);
    const actions = await g.listActions('main', 'gated');
    expect(actions.find((x) => x.name === 'approve')?.disabled ?? false).toBe(false);
    await g.runAction('main', 'Stack', 'gated', 'approve');
    const approved = await env.waitStack('gated', isReady, 'Ready after approval', 60_000);
    expect(approved.metadata.annotations?.['stackoperator.dev/approve']).toBe(planId);
    expect(counts(approved).create).toBe(1);
    await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c', 'gated']);
  });
});

describe('resource actions, run by argocd-server with the Lua from config/argocd', () => {
  it('discovery offers reconcile, cancel-update, suspend, resume and approve, each enabled only when it can act', async () => {
    const actions = await g.listActions('main', 'b');
    const state = Object.fromEntries(actions.map((x) => [x.name, x.disabled ?? false]));
    expect(state).toEqual({ reconcile: false, 'cancel-update': true, suspend: false, resume: true, approve: true });
  });

  it('reconcile sets stackoperator.dev/reconcile-requested-at, which the operator handles', async () => {
    await g.runAction('main', 'Stack', 'b', 'reconcile');
    const s = await env.getStack('b');
    const token = s?.metadata.annotations?.['stackoperator.dev/reconcile-requested-at'];
    expect(token).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await env.waitStack('b', (x) => x.status?.lastHandledReconcileRequest === token, 'reconcile request handled');
  });

  it('suspend makes the Stack (and so the Application) Suspended; resume makes it Healthy again', async () => {
    await g.runAction('main', 'Stack', 'b', 'suspend');
    expect((await env.getStack('b'))?.spec.suspend).toBe(true);
    await g.waitApp('main', (x) => health(x) === 'Suspended', 'Suspended');
    expect((await g.resourceHealth('main', 'Stack', 'b'))?.status).toBe('Suspended');
    const actions = Object.fromEntries((await g.listActions('main', 'b')).map((x) => [x.name, x.disabled ?? false]));
    expect([actions.suspend, actions.resume]).toEqual([true, false]);
    await g.runAction('main', 'Stack', 'b', 'resume');
    expect((await env.getStack('b'))?.spec.suspend).toBe(false);
    await g.waitApp('main', (x) => health(x) === 'Healthy', 'Healthy');
    expect((await g.resourceHealth('main', 'Stack', 'b'))?.status).toBe('Healthy');
  });

  it('cancel-update sets stackoperator.dev/cancel-update during an update: one cancel at the provider', async () => {
    const before = counts(await env.getStack('a'));
    const sha = await g.commit({ 'main/a.yaml': [stack('a', 'v3', { create: 20, update: 400 })] }, 'a: a long update');
    await env.waitStack('a', (x) => x.status?.operation?.type === 'Update' && !!x.status.operation.issuedAt, 'update in flight', 60_000);
    const actions = Object.fromEntries((await g.listActions('main', 'a')).map((x) => [x.name, x.disabled ?? false]));
    expect(actions['cancel-update']).toBe(false);
    await g.runAction('main', 'Stack', 'a', 'cancel-update');
    const token = (await env.getStack('a'))?.metadata.annotations?.['stackoperator.dev/cancel-update'];
    expect(token).toBeTruthy();
    await env.waitStack('a', (x) => x.status?.lastHandledCancelRequest === token && x.status?.operation === undefined, 'cancel handled', 60_000);
    expect(counts(await env.getStack('a')).cancel - before.cancel).toBe(1);
    // Cancelled and rolled back: the Stack is Stalled until someone asks again, and Argo CD says so.
    const stalled = cond(await env.waitStack('a', (x) => cond(x, 'Stalled')?.status === 'True', 'Stalled after the cancel'), 'Stalled');
    await g.waitApp('main', (x) => health(x) === 'Degraded', 'Degraded after the cancel');
    expect(await g.resourceHealth('main', 'Stack', 'a')).toEqual({ status: 'Degraded', message: `${stalled?.reason}: ${stalled?.message}` });
    // reconcile retries the stalled generation: the update runs again to the end.
    await g.runAction('main', 'Stack', 'a', 'reconcile');
    await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c'], 120_000);
    expect((await env.getStack('a'))?.status?.outputs).toEqual({ message: 'v3' });
    expect(counts(await env.getStack('a')).update - before.update).toBe(2);
  });
});

describe('pruning a deletion-protected Stack', () => {
  /** Waits until the admission policy (config/admission) denies deleting Stack c. */
  async function admissionDenies(): Promise<void> {
    for (let i = 0; i < 150; i++) {
      const r = await kubectl(['delete', 'stack', 'c', '-n', env.ns, '--dry-run=server']);
      if (r.code !== 0) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('the deletion-protection admission policy did not take effect within 30 s');
  }

  it('fails with the admission policy\'s message and deletes nothing; after protection is turned off in git, the prune deletes the cloud stack', async () => {
    const vap = await kubectl(['apply', '-k', join(repoRoot, 'config', 'admission')]);
    expect(vap.code, vap.stderr).toBe(0);
    await admissionDenies();
    const c = await env.getStack('c');
    const id = c?.status?.stackId as string;
    expect(id).toBeTruthy();

    let sha = await g.commit({ 'main/c.yaml': null }, 'remove the protected stack');
    const failed = await g.waitApp('main', (x) => x.status?.operationState?.syncResult?.revision === sha && ['Failed', 'Error'].includes(x.status.operationState.phase ?? ''), 'a failed sync');
    expect(JSON.stringify(failed.status?.operationState)).toContain(`Stack ${env.ns}/c has spec.deletionProtection: true`);
    expect((await env.getStack('c'))?.metadata.deletionTimestamp).toBeUndefined();
    expect(env.emu.engine.get(id)?.deleted).toBe(false);
    expect(counts(c).delete).toBe(0);

    sha = await g.commit({ 'main/c.yaml': [stack('c', 'v1', { create: 60 }, { deletionProtection: false })] }, 'c: protection off');
    await healthyOnlyWhenReady('main', sha, ['a', 'b', 'c']);
    sha = await g.commit({ 'main/c.yaml': null }, 'remove c');
    await g.waitApp('main', (x) => x.status?.operationState?.syncResult?.revision === sha && x.status.operationState.phase === 'Succeeded', 'the prune');
    await env.waitGone('c', 60_000);
    expect(env.emu.engine.get(id)?.deleted).toBe(true);
  });
});

describe('StackProvider / ClusterStackProvider health', () => {
  it('broken credentials show as Degraded with the provider\'s reason; Healthy once removed', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'broken-creds' }, stringData: { username: env.emu.credentials.keystone.username, password: 'wrong' } };
    const heat = (env.emu.credentials.keystone);
    const spec = (ns?: string) => ({ heat: { authUrl: env.emu.endpoints.keystone, region: heat.region, projectName: heat.projectName, credentialsSecretRef: { name: 'broken-creds', ...(ns ? { namespace: ns } : {}) } }, allowPlainHTTP: true });
    const clusterName = `broken-${env.ns}`;
    const sha = await g.commit(
      {
        'main/broken.yaml': [
          secret,
          { apiVersion: 'stackoperator.dev/v1alpha1', kind: 'StackProvider', metadata: { name: 'broken' }, spec: spec() },
          { apiVersion: 'stackoperator.dev/v1alpha1', kind: 'ClusterStackProvider', metadata: { name: clusterName }, spec: spec(env.ns) },
        ],
      },
      'providers with a wrong password',
    );
    await g.waitApp('main', (x) => synced(x, sha) && health(x) === 'Degraded', 'Degraded');
    const degraded = async (kind: string, name: string) => {
      for (let i = 0; i < 200; i++) {
        const h = await g.resourceHealth('main', kind, name);
        if (h?.status === 'Degraded') return h;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`${kind} ${name} never showed Degraded in Argo CD`);
    };
    expect((await degraded('StackProvider', 'broken')).message).toMatch(/^Unauthorized: /);
    expect((await degraded('ClusterStackProvider', clusterName)).message).toMatch(/^Unauthorized: /);
    const after = await g.commit({ 'main/broken.yaml': null }, 'remove the broken providers');
    await healthyOnlyWhenReady('main', after, ['a', 'b']);
  });
});

describe('a dependsOn chain in one Application (no sync waves)', () => {
  it('is Healthy only when every Stack of the chain is Ready', async () => {
    const sha = await g.commit(
      {
        'chain/net.yaml': [stack('net', 'net', { create: 40 })],
        'chain/db.yaml': [stack('db', 'db', { create: 20 }, { dependsOn: [{ name: 'net' }] })],
        'chain/app.yaml': [stack('app', 'app', { create: 20 }, { dependsOn: [{ name: 'db' }] })],
      },
      'a three-layer chain',
    );
    await g.application('chain', 'chain');
    const messages = new Set<string>();
    const seenDuring = async (): Promise<void> => {
      for (const n of ['db', 'app']) {
        const h = await g.resourceHealth('chain', 'Stack', n);
        if (h?.message) messages.add(h.message);
      }
    };
    const poll = setInterval(() => void seenDuring().catch(() => undefined), 300);
    try {
      const { seen } = await healthyOnlyWhenReady('chain', sha, ['net', 'db', 'app']);
      expect(seen).toContain('Progressing');
    } finally {
      clearInterval(poll);
    }
    expect([...messages].some((m) => m.startsWith('WaitingForDependencies: '))).toBe(true);
  });
});
