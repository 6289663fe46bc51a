// Outputs never take over (tenant-safety issue, item 1) and are ensured, not only written on change
// (correctness issue, item 2). Tried as a careless or hostile tenant: naming a ConfigMap or Secret
// that exists, the provider's credentials Secret, another Stack's outputs object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from '../stacks/harness.ts';
import { getObject, until } from './util.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'] });
});
afterAll(async () => env?.stop());

const stalledBy = (reason: string) => (s: Parameters<typeof isReady>[0]) => cond(s, 'Stalled')?.status === 'True' && cond(s, 'Stalled')?.reason === reason;

describe('outputs never take over an object the Stack does not own', () => {
  it("a user's ConfigMap named as the target is never modified, owned or deleted", async () => {
    await env.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine' }, data: { keep: 'me' } });
    const before = await getObject(env, 'ConfigMap', 'mine');
    await env.apply(stackManifest('grabber', 'heat', { template: { inline: hot('x') }, outputs: { configMapName: 'mine' } }));
    const s = await env.waitStack('grabber', stalledBy('OutputTargetConflict'), 'OutputTargetConflict');
    expect(cond(s, 'Stalled')?.message).toContain('ConfigMap');
    expect(cond(s, 'Stalled')?.message).toContain('no controller owner');
    expect(cond(s, 'Ready')?.status).toBe('False');
    const during = await getObject(env, 'ConfigMap', 'mine');
    expect(during?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(during?.metadata.ownerReferences ?? []).toEqual([]);
    const r = await kubectl(['delete', 'stack', 'grabber', '-n', env.ns, '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
    await env.waitGone('grabber');
    // The garbage collector runs in the test control plane: give it a moment, then the object must still be there.
    await new Promise((res) => setTimeout(res, 2000));
    const after = await getObject(env, 'ConfigMap', 'mine');
    expect(after?.data).toEqual({ keep: 'me' });
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it("the provider's credentials Secret is never an outputs target", async () => {
    const before = await getObject(env, 'Secret', 'heat-creds');
    await env.apply(stackManifest('leaker', 'heat', { template: { inline: hot('x') }, outputs: { secretName: 'heat-creds' } }));
    await env.waitStack('leaker', stalledBy('OutputTargetConflict'), 'OutputTargetConflict');
    const after = await getObject(env, 'Secret', 'heat-creds');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(after?.data).toEqual(before?.data);
  });

  it('two Stacks naming one target: the second conflicts and names the first', async () => {
    await env.apply(stackManifest('first', 'heat', { template: { inline: hot('one') }, outputs: { configMapName: 'shared-out' } }));
    await env.waitStack('first', isReady, 'Ready');
    const owned = await until('the outputs ConfigMap', () => getObject(env, 'ConfigMap', 'shared-out'));
    expect(owned.data?.message).toBeDefined();
    await env.apply(stackManifest('second', 'heat', { template: { inline: hot('two') }, outputs: { configMapName: 'shared-out' } }));
    const s = await env.waitStack('second', stalledBy('OutputTargetConflict'), 'OutputTargetConflict');
    expect(cond(s, 'Stalled')?.message).toContain('Stack first');
    const after = await getObject(env, 'ConfigMap', 'shared-out');
    expect(after?.metadata.resourceVersion).toBe(owned.metadata.resourceVersion);
  });
});

describe('outputs are ensured', () => {
  it('outputs added to a Ready Stack are written, and an outputs object deleted by hand comes back', async () => {
    await env.apply(stackManifest('late', 'heat', { template: { inline: hot('hello') } }));
    await env.waitStack('late', isReady, 'Ready');
    await env.apply(stackManifest('late', 'heat', { template: { inline: hot('hello') }, outputs: { configMapName: 'late-out' } }));
    const cm = await until('the outputs ConfigMap', () => getObject(env, 'ConfigMap', 'late-out'));
    expect(cm.data?.message).toBeDefined();
    expect(cm.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('stack-operator');

    const del = await kubectl(['delete', 'configmap', 'late-out', '-n', env.ns]);
    expect(del.code, del.stderr).toBe(0);
    // The next reconcile (a resync, or this request) writes it again.
    await kubectl(['annotate', 'stack', 'late', '-n', env.ns, 'stackoperator.dev/reconcile-requested-at=again', '--overwrite']);
    const back = await until('the ConfigMap written again', () => getObject(env, 'ConfigMap', 'late-out'));
    expect(back.data).toEqual(cm.data);
  });

  it('a failed write (an immutable Secret) shows in the conditions and an event, and is retried until it succeeds', async () => {
    await env.apply(stackManifest('imm', 'heat', { template: { inline: hot('v1') }, outputs: { secretName: 'imm-out' } }));
    await env.waitStack('imm', isReady, 'Ready');
    await until('the outputs Secret', () => getObject(env, 'Secret', 'imm-out'));
    const p = await kubectl(['patch', 'secret', 'imm-out', '-n', env.ns, '--type=merge', '-p', '{"immutable":true}']);
    expect(p.code, p.stderr).toBe(0);
    await env.apply(stackManifest('imm', 'heat', { template: { inline: hot('v2') }, outputs: { secretName: 'imm-out' } }));
    const s = await env.waitStack('imm', (x) => cond(x, 'Reconciling')?.reason === 'OutputsFailed', 'OutputsFailed');
    expect(cond(s, 'Reconciling')?.message).toMatch(/immutable/i);
    const ev = await kubectl(['get', 'events.events.k8s.io', '-n', env.ns, '--field-selector', 'reason=OutputsFailed', '-o', 'jsonpath={.items[*].note}']);
    expect(ev.stdout).toContain('writing the outputs failed');
    // The owner clears the way: the retry (work-queue backoff) writes a fresh Secret.
    await kubectl(['delete', 'secret', 'imm-out', '-n', env.ns]);
    await env.waitStack('imm', isReady, 'Ready again');
    const fresh = await until('the Secret written again', () => getObject(env, 'Secret', 'imm-out'));
    expect(Buffer.from(fresh.data?.message ?? '', 'base64').toString()).toContain('v2');
  });
});
