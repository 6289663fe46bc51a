// Scenarios that restart the apiserver or delete the CRD run on a DEDICATED control plane (the shared
// one serves every other test): T10 (410 Gone after etcd compaction: relist, and the edit and the
// deletion made in the gap are both acted on) and T17 (CRD deletion bypasses admission: a protected
// Stack keeps its cloud stack and its finalizer, an unprotected one is deleted normally).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../src/devenv/control-plane.ts';
import { cond, hot, isReady, stackManifest } from '../stacks/harness.ts';
import { type RelEnv, sleep, startRelEnv } from './env.ts';
import { type OperatorProcess, startOperatorProcess } from './operator-process.ts';

let cp: ControlPlane;
let env: RelEnv;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  // No watch cache: a resumed watch from a compacted revision answers 410 Gone.
  cp = await startControlPlane({ apiserverArgs: ['--watch-cache=false'] });
  env = await startRelEnv({ kubeconfig: cp.kubeconfigPath, providers: ['heat'], prefix: 'rel-cp' });
  op = startOperatorProcess({ kubeconfig: cp.kubeconfigPath, namespaces: [env.ns] });
}, 180_000);

afterAll(async () => {
  await op?.kill();
  await env?.emu.close();
  await cp?.stop();
});

describe('dedicated control plane', () => {
  it('T10: after 410 Gone the operator relists; an edit and a deletion made in the gap are both acted on', async () => {
    await env.apply(stackManifest('gap-edit', 'heat', { template: { inline: hot('e') }, parameters: { message: 'one' } }));
    await env.apply(stackManifest('gap-del', 'heat', { template: { inline: hot('d') } }));
    await env.waitStack('gap-edit', isReady, 'Ready', 60_000);
    const del = await env.waitStack('gap-del', isReady, 'Ready', 60_000);
    const proc = op as OperatorProcess;
    // Freeze the operator, change things, compact etcd, restart the apiserver (all watches break), thaw.
    proc.child.kill('SIGSTOP');
    try {
      await env.apply(stackManifest('gap-edit', 'heat', { template: { inline: hot('e') }, parameters: { message: 'two' } }));
      await env.kubectl(['delete', 'stack', 'gap-del', '-n', env.ns, '--wait=false']);
      for (let i = 0; i < 3; i++) await env.kubectl(['create', 'configmap', `bump-${i}`, '-n', env.ns]);
      await cp.compactEtcd();
      await cp.restartApiServer();
    } finally {
      proc.child.kill('SIGCONT');
    }
    await env.waitStack('gap-edit', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'edit from the gap applied', 60_000);
    await env.waitGone('gap-del', 60_000);
    expect(proc.grep('410 Gone').length, proc.logs().slice(-3000)).toBeGreaterThan(0);
    expect(env.counts('heat', 'gap-edit')).toMatchObject({ create: 1, update: 1 });
    expect(env.counts('heat', 'gap-del')).toMatchObject({ create: 1, delete: 1 });
    expect(env.emu.engine.get(del.status?.stackId as string)?.deleted ?? true).toBe(true);
    expect(proc.alive).toBe(true);
  });

  it('T17: deleting the Stack CRD (no admission) keeps a protected Stack and its cloud stack; unprotecting lets it go', async () => {
    await env.apply(stackManifest('crd-guarded', 'heat', { template: { inline: hot('g') }, deletionProtection: true }));
    await env.apply(stackManifest('crd-free', 'heat', { template: { inline: hot('f') } }));
    const g = await env.waitStack('crd-guarded', isReady, 'Ready', 60_000);
    const f = await env.waitStack('crd-free', isReady, 'Ready', 60_000);
    const d = await env.kubectl(['delete', 'crd', 'stacks.stackoperator.dev', '--wait=false']);
    expect(d.code, d.stderr).toBe(0);
    await env.waitGone('crd-free', 60_000);
    expect(env.emu.engine.get(f.status?.stackId as string)?.deleted ?? true).toBe(true);
    const blocked = await env.waitStack('crd-guarded', (s) => cond(s, 'Stalled')?.reason === 'DeletionProtected', 'Stalled DeletionProtected', 60_000);
    expect(blocked.metadata.deletionTimestamp).toBeTruthy();
    expect(blocked.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    await sleep(2000);
    expect(env.emu.engine.get(g.status?.stackId as string)?.deleted).toBe(false);
    const crd = await env.kubectl(['get', 'crd', 'stacks.stackoperator.dev', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
    expect(crd.stdout, 'the CRD waits for the protected Stack').not.toBe('');
    expect(env.counts('heat', 'crd-guarded').delete).toBe(0);
    // The documented way out: unprotect (or set deletionPolicy: Retain) on the terminating object.
    const p = await env.kubectl(['patch', 'stack', 'crd-guarded', '-n', env.ns, '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']);
    expect(p.code, p.stderr).toBe(0);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const r = await env.kubectl(['get', 'crd', 'stacks.stackoperator.dev']);
      if (r.code !== 0) break;
      await sleep(500);
    }
    expect((await env.kubectl(['get', 'crd', 'stacks.stackoperator.dev'])).code, 'the CRD is gone').not.toBe(0);
    expect(env.counts('heat', 'crd-guarded').delete).toBe(1);
  });
});
