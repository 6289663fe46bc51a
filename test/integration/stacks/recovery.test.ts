// A Stack Stalled on a missing reference recovers by itself once the object appears (correctness
// issue, item 3): nobody touches the Stack. The harness re-checks after 0.5 s at first (the product
// default is 30 s, growing to the resync interval).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from './harness.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'] });
});
afterAll(async () => env?.stop());

const stalledBy = (reason: string) => (s: Parameters<typeof isReady>[0]) => cond(s, 'Stalled')?.reason === reason && cond(s, 'Stalled')?.status === 'True';

describe('recovery from Stalled without a touch', () => {
  it('a missing template ConfigMap: Ready once it is created', async () => {
    await env.apply(stackManifest('tpl', 'heat', { template: { configMapRef: { name: 'tpl-src', key: 'template' } } }));
    const s = await env.waitStack('tpl', stalledBy('TemplateNotFound'), 'TemplateNotFound');
    const generation = s.metadata.generation;
    await env.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tpl-src' }, data: { template: JSON.stringify(hot('late')) } });
    const ready = await env.waitStack('tpl', isReady, 'Ready');
    expect(ready.metadata.generation).toBe(generation);
  });

  it('a missing parametersFrom Secret: Ready once it is created', async () => {
    await env.apply(stackManifest('params', 'heat', { template: { inline: hot('x') }, parametersFrom: [{ kind: 'Secret', name: 'late-params', key: 'msg', parameter: 'message' }] }));
    await env.waitStack('params', stalledBy('ParametersNotFound'), 'ParametersNotFound');
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'late-params' }, stringData: { msg: 'from-secret' } });
    const ready = await env.waitStack('params', isReady, 'Ready');
    expect(ready.status?.outputs?.message).toBe('from-secret');
  });

  it('wrong credentials: Ready once the Secret is fixed', async () => {
    const c = env.emu.credentials.keystone;
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-creds' }, stringData: { username: c.username } });
    await env.apply({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'StackProvider',
      metadata: { name: 'fixable' },
      spec: { heat: { authUrl: env.emu.endpoints.keystone, region: c.region, projectName: c.projectName, credentialsSecretRef: { name: 'bad-creds' } }, pollInterval: '200ms', allowPlainHTTP: true },
    });
    const m = stackManifest('creds', 'heat', { template: { inline: hot('x') } });
    m.spec.providerRef = { name: 'fixable' } as never;
    await env.apply(m);
    const s = await env.waitStack('creds', stalledBy('CredentialsInvalid'), 'CredentialsInvalid');
    expect(cond(s, 'Stalled')?.message).toContain('password');
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-creds' }, stringData: { username: c.username, password: c.password } });
    await env.waitStack('creds', isReady, 'Ready');
  });
});
