// No takeover of cloud stacks (tenant-safety issue, item 2): the adopt annotation works only where the
// provider object allows it, never on a stack owned by a live Stack; the documented move of a stack to
// a new Stack (deletionPolicy Retain, then adopt) works end to end (correctness issue, item 10).
// The operator watches every namespace here: only then can it tell that an owner UID is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from '../stacks/harness.ts';
import { mutations } from './util.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'], operator: { namespaces: [] } });
  const c = env.emu.credentials.keystone;
  await env.apply({
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'ClusterStackProvider',
    metadata: { name: `shared-${env.ns}` },
    spec: {
      heat: { authUrl: env.emu.endpoints.keystone, region: c.region, projectName: c.projectName, credentialsSecretRef: { name: 'heat-creds', namespace: env.ns } },
      pollInterval: '200ms',
      allowPlainHTTP: true,
    },
  });
});
afterAll(async () => {
  await kubectl(['delete', 'clusterstackprovider', `shared-${env.ns}`, '--ignore-not-found']);
  await env?.stop();
});

const ADOPT = { annotations: { 'stackoperator.dev/adopt': 'true' } };
const conflict = (s: Parameters<typeof isReady>[0]) => cond(s, 'Stalled')?.reason === 'StackNameConflict';

async function retainAndDelete(name: string): Promise<void> {
  const p = await kubectl(['patch', 'stack', name, '-n', env.ns, '--type=merge', '-p', '{"spec":{"deletionPolicy":"Retain"}}']);
  expect(p.code, p.stderr).toBe(0);
  const d = await kubectl(['delete', 'stack', name, '-n', env.ns]);
  expect(d.code, d.stderr).toBe(0);
  await env.waitGone(name);
}

describe('adoption', () => {
  it('Retain, then adopt: a new Stack takes over the stack the old one left, with no second create', async () => {
    await env.apply(stackManifest('old', 'heat', { stackName: 'moving', template: { inline: hot('a') } }));
    const old = await env.waitStack('old', isReady, 'Ready');
    await retainAndDelete('old');
    expect(env.emu.engine.get(old.status?.stackId ?? '')?.deleted).toBeFalsy();

    await env.apply(stackManifest('new', 'heat', { stackName: 'moving', template: { inline: hot('a') } }, ADOPT));
    const adopted = await env.waitStack('new', isReady, 'Ready');
    expect(adopted.status?.stackId).toBe(old.status?.stackId);
    expect(mutations(env, 'heat', 'moving').create).toBe(1);
  });

  it('a stack owned by a live Stack is never adopted, annotation or not', async () => {
    await env.apply(stackManifest('owner', 'heat', { stackName: 'taken', template: { inline: hot('mine') } }));
    await env.waitStack('owner', isReady, 'Ready');
    const before = mutations(env, 'heat', 'taken');
    await env.apply(stackManifest('thief', 'heat', { stackName: 'taken', template: { inline: hot('yours') } }, ADOPT));
    const s = await env.waitStack('thief', conflict, 'StackNameConflict');
    expect(cond(s, 'Stalled')?.message).toContain('never adopted');
    expect(mutations(env, 'heat', 'taken')).toEqual(before);
  });

  it('a ClusterStackProvider (adoption Disallowed by default) refuses the annotation, even for an orphan', async () => {
    await env.apply(stackManifest('left', 'heat', { stackName: 'orphan', template: { inline: hot('o') } }));
    await env.waitStack('left', isReady, 'Ready');
    await retainAndDelete('left');
    const before = mutations(env, 'heat', 'orphan');
    const viaShared = { ...stackManifest('tenant', 'heat', { stackName: 'orphan', template: { inline: hot('o') } }, ADOPT) };
    viaShared.spec.providerRef = { kind: 'ClusterStackProvider', name: `shared-${env.ns}` } as never;
    await env.apply(viaShared);
    const s = await env.waitStack('tenant', conflict, 'StackNameConflict');
    expect(cond(s, 'Stalled')?.message).toContain('adoption: Disallowed');
    expect(mutations(env, 'heat', 'orphan')).toEqual(before);
  });
});
