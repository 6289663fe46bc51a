// Stacks that build on each other (docs/dependencies.md), end to end: the real operator on the real
// API server, the emulator over real HTTP as the oracle of what reached the cloud and when.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackRecord } from '../../../src/emulator/engine/engine.ts';
import { kubectl, uniqueName } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { mutations, until } from '../tenancy/util.ts';
import { type OperatorEnv, type ProviderKind, cond, isReady, stackManifest, startOperatorEnv, templateFor } from './harness.ts';

const SAMPLE = join(repoRoot, 'config', 'samples', 'stack-layered.yaml');
let env: OperatorEnv;
beforeAll(async () => {
  // Waits re-check only after 10 minutes here, so every step below is driven by watch events (a
  // dependency's status change enqueues its dependents), never by a timer.
  const planner = { retryBaseMs: 300, retryCapMs: 2000, createVisibilityGraceMs: 2000, timeoutGraceMs: 0, recheckBaseMs: 500, recheckCapMs: 600_000 };
  env = await startOperatorEnv({ providers: ['heat', 'ros', 'rfs'], operator: { planner, resyncIntervalMs: 600_000 } });
});
afterAll(async () => env?.stop());

/** The emulator's record of a cloud stack by name (deleted ones included). */
function cloud(provider: 'heat' | 'ros' | 'rfs', name: string): StackRecord {
  const found = env.emu.engine.list({ provider, includeDeleted: true }).filter((s) => s.name === name);
  expect(found, `${provider} stacks named ${name}`).toHaveLength(1);
  return found[0] as StackRecord;
}
const opOf = (s: StackRecord, action: string) => s.operations.find((o) => o.action === action);
const reason = (type: string, r: string) => (s: Parameters<typeof isReady>[0]) => cond(s, type)?.status === 'True' && cond(s, type)?.reason === r;

describe('a three-layer chain across heat, ros and rfs (config/samples/stack-layered.yaml)', () => {
  it('converges from one kubectl apply -f with the dependents listed first, creating layer after layer', async () => {
    const r = await kubectl(['apply', '-n', env.ns, '-f', SAMPLE]);
    expect(r.code, r.stderr).toBe(0);
    const app = await env.waitStack('layered-app', isReady, 'Ready', 90_000);
    const [net, db, a] = [cloud('heat', 'layered-net'), cloud('ros', 'layered-db'), cloud('rfs', 'layered-app')];
    // The top layer (rfs, nothing depends on it) still shows its outputs: rfs reads them with a separate call.
    expect(app.status?.outputs).toEqual({ url: 'app -> db.subnet-blue.internal' });
    expect(db.params.SubnetId).toBe('subnet-blue');
    expect(a.params.db_endpoint).toBe('db.subnet-blue.internal');
    expect(env.emu.engine.outputs(a).find((o) => o.key === 'url')?.value).toBe('app -> db.subnet-blue.internal');
    // Each layer was created once, only after the layer below had completed.
    expect(opOf(db, 'CREATE')?.startedAt).toBeGreaterThanOrEqual(opOf(net, 'CREATE')?.endedAt ?? Infinity);
    expect(opOf(a, 'CREATE')?.startedAt).toBeGreaterThanOrEqual(opOf(db, 'CREATE')?.endedAt ?? Infinity);
    for (const [p, n] of [['heat', 'layered-net'], ['ros', 'layered-db'], ['rfs', 'layered-app']] as const) {
      expect(mutations(env, p, n), n).toMatchObject({ create: 1, update: 0, delete: 0, rejected: 0 });
    }
  });

  it('an upstream output change reaches every layer: each dependent updates once, with the new value', async () => {
    const p = await kubectl(['patch', 'stack', 'layered-net', '-n', env.ns, '--type=merge', '-p', '{"spec":{"parameters":{"name":"green"}}}']);
    expect(p.code, p.stderr).toBe(0);
    await until('the app updated with the new endpoint', () => cloud('rfs', 'layered-app').params.db_endpoint === 'db.subnet-green.internal', 90_000);
    const app = await env.waitStack('layered-app', (s) => isReady(s) && s.status?.outputs?.['url'] === 'app -> db.subnet-green.internal', 'Ready with the new url output', 90_000);
    expect(app.status?.outputs).toEqual({ url: 'app -> db.subnet-green.internal' });
    expect(env.emu.engine.outputs(cloud('rfs', 'layered-app')).find((o) => o.key === 'url')?.value).toBe('app -> db.subnet-green.internal');
    expect(cloud('ros', 'layered-db').params.SubnetId).toBe('subnet-green');
    expect(cloud('rfs', 'layered-app').params.db_endpoint).toBe('db.subnet-green.internal');
    expect(mutations(env, 'ros', 'layered-db')).toMatchObject({ create: 1, update: 1 });
    expect(mutations(env, 'rfs', 'layered-app')).toMatchObject({ create: 1, update: 1 });
    expect(opOf(cloud('ros', 'layered-db'), 'UPDATE')?.startedAt).toBeGreaterThanOrEqual(opOf(cloud('heat', 'layered-net'), 'UPDATE')?.endedAt ?? Infinity);
  });

  it('a Stack others depend on keeps its cloud stack while they exist (DependentsExist), its dependents wait', async () => {
    const d = await kubectl(['delete', 'stack', 'layered-net', '-n', env.ns, '--wait=false']);
    expect(d.code, d.stderr).toBe(0);
    const net = await env.waitStack('layered-net', reason('Reconciling', 'DependentsExist'), 'DependentsExist');
    expect(cond(net, 'Reconciling')?.message).toContain('layered-db');
    const db = await env.waitStack('layered-db', reason('Reconciling', 'WaitingForDependencies'), 'WaitingForDependencies');
    expect(cond(db, 'Reconciling')?.message).toContain('Stack layered-net is being deleted');
    expect(mutations(env, 'heat', 'layered-net').delete).toBe(0);
    expect(cloud('heat', 'layered-net').deleted).toBe(false);
  });

  it('deleting all of them together tears them down app first, then db, then net', async () => {
    const d = await kubectl(['delete', '-n', env.ns, '-f', SAMPLE, '--wait=false']);
    expect(d.code, d.stderr).toBe(0);
    for (const n of ['layered-app', 'layered-db', 'layered-net']) await env.waitGone(n, 90_000);
    const [net, db, a] = [cloud('heat', 'layered-net'), cloud('ros', 'layered-db'), cloud('rfs', 'layered-app')];
    for (const s of [net, db, a]) expect(s.deleted, s.name).toBe(true);
    expect(opOf(db, 'DELETE')?.startedAt).toBeGreaterThanOrEqual(a.deletedAt ?? Infinity);
    expect(opOf(net, 'DELETE')?.startedAt).toBeGreaterThanOrEqual(db.deletedAt ?? Infinity);
  });
});

describe('a dependency cycle', () => {
  it('is Stalled DependencyCycle naming the cycle, creates nothing, and resolves when an edge goes', async () => {
    const tpl = { template: { inline: templateFor('heat', 'c') } };
    await env.apply(stackManifest('cyc-a', 'heat', { ...tpl, dependsOn: [{ name: 'cyc-b' }] }));
    await env.apply(stackManifest('cyc-b', 'heat', { ...tpl, parametersFrom: [{ kind: 'Stack', name: 'cyc-c', key: 'message' }] }));
    await env.apply(stackManifest('cyc-c', 'heat', { ...tpl, dependsOn: [{ name: 'cyc-a' }] }));
    for (const n of ['cyc-a', 'cyc-b', 'cyc-c']) {
      const s = await env.waitStack(n, reason('Stalled', 'DependencyCycle'), 'DependencyCycle');
      expect(cond(s, 'Stalled')?.message).toMatch(/cyc-\w -> cyc-\w -> cyc-\w -> cyc-\w/);
    }
    expect(env.emu.engine.list({ provider: 'heat' }).filter((s) => s.name.startsWith('cyc-'))).toEqual([]);
    await env.apply(stackManifest('cyc-c', 'heat', { ...tpl, dependsOn: [] }));
    for (const n of ['cyc-c', 'cyc-a', 'cyc-b']) await env.waitStack(n, isReady, 'Ready', 60_000);
    expect((await kubectl(['delete', 'stack', 'cyc-a', 'cyc-b', 'cyc-c', '-n', env.ns, '--wait=false'])).code).toBe(0);
    for (const n of ['cyc-a', 'cyc-b', 'cyc-c']) await env.waitGone(n, 60_000);
  });
});

describe('namespace deletion', () => {
  it('deletes a chain in reverse order and leaves no cloud stack (providers outside the namespace)', async () => {
    // Cluster-scoped providers with their Secrets in another namespace: the namespace's own StackProviders
    // would go with it (docs/reliability.md "Open findings").
    const credNs = uniqueName('deps-creds');
    expect((await kubectl(['create', 'namespace', credNs])).code).toBe(0);
    const csp: Record<string, string> = {};
    try {
      for (const kind of ['heat', 'ros', 'rfs'] as ProviderKind[]) csp[kind] = await clusterProvider(kind, credNs);
      // rfs in the middle: its view carries no outputs, they are read because a Stack depends on it.
      const chain = [
        stackManifest('ns-app', 'ros', { template: { inline: templateFor('ros', 'x') }, parametersFrom: [{ kind: 'Stack', name: 'ns-mid', key: 'message' }] }),
        stackManifest('ns-mid', 'rfs', { template: { inline: templateFor('rfs', 'x') }, parametersFrom: [{ kind: 'Stack', name: 'ns-net', key: 'message' }] }),
        stackManifest('ns-net', 'heat', { template: { inline: templateFor('heat', 'from-net') } }),
      ].map((m, i) => ({ ...m, spec: { ...m.spec, providerRef: { kind: 'ClusterStackProvider', name: csp[['ros', 'rfs', 'heat'][i] as string] } } }));
      for (const m of chain) await env.apply(m);
      const app = await env.waitStack('ns-app', isReady, 'Ready', 90_000);
      expect(app.status?.outputs?.message).toBe('from-net');
      expect(cloud('rfs', 'ns-mid').params.message).toBe('from-net');
      const del = await kubectl(['delete', 'namespace', env.ns, '--wait=false']);
      expect(del.code, del.stderr).toBe(0);
      await until('the namespace to be gone', async () => (await kubectl(['get', 'namespace', env.ns])).code !== 0, 120_000);
      expect(env.emu.engine.list().map((s) => `${s.provider}/${s.name}`)).toEqual([]);
      const [net, mid, a] = [cloud('heat', 'ns-net'), cloud('rfs', 'ns-mid'), cloud('ros', 'ns-app')];
      expect(opOf(mid, 'DELETE')?.startedAt).toBeGreaterThanOrEqual(a.deletedAt ?? Infinity);
      expect(opOf(net, 'DELETE')?.startedAt).toBeGreaterThanOrEqual(mid.deletedAt ?? Infinity);
    } finally {
      for (const name of Object.values(csp)) await kubectl(['delete', 'clusterstackprovider', name, '--wait=false']);
      await kubectl(['delete', 'namespace', credNs, '--wait=false']);
    }
  });
});

/** A ClusterStackProvider copied from the namespace's StackProvider, its Secret copied to `credNs`. */
async function clusterProvider(kind: ProviderKind, credNs: string): Promise<string> {
  const get = async (what: string): Promise<unknown> => JSON.parse((await kubectl(['get', what, '-n', env.ns, '-o', 'json'])).stdout);
  const p = (await get(`stackprovider/${kind}`)) as { spec: Record<string, Record<string, unknown>> };
  const secret = (await get(`secret/${kind}-creds`)) as { data: Record<string, string> };
  const s = await kubectl(['apply', '-n', credNs, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${kind}-creds` }, data: secret.data }) });
  expect(s.code, s.stderr).toBe(0);
  const name = uniqueName(`deps-${kind}`);
  const block = Object.keys(p.spec).find((k) => ['heat', 'ros', 'rfs'].includes(k)) as string;
  const spec = { ...p.spec, [block]: { ...p.spec[block], credentialsSecretRef: { name: `${kind}-creds`, namespace: credNs } } };
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'stackoperator.dev/v1alpha1', kind: 'ClusterStackProvider', metadata: { name }, spec }) });
  expect(r.code, r.stderr).toBe(0);
  return name;
}
