// Credentials never go to a plain http:// endpoint unless the provider object says so (tenant-safety
// issue, item 5): a StackProvider pointing at http:// without spec.allowPlainHTTP is not Ready and its
// Stacks are Stalled, with a message that says what to set; nothing reaches the endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_PROVIDERS } from '../../../src/api/v1alpha1/resources.ts';
import type { ProviderObject } from '../../../src/stacks/context.ts';
import { type OperatorEnv, cond, hot, stackManifest, startOperatorEnv } from '../stacks/harness.ts';
import { until } from './util.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'] });
});
afterAll(async () => env?.stop());

describe('plain http endpoints', () => {
  it('are refused without allowPlainHTTP: provider not Ready, Stack Stalled naming the field, no request sent', async () => {
    const k = env.emu.credentials.keystone;
    await env.apply({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'StackProvider',
      metadata: { name: 'cleartext' },
      spec: { heat: { authUrl: env.emu.endpoints.keystone, region: k.region, projectName: k.projectName, credentialsSecretRef: { name: 'heat-creds' } }, pollInterval: '200ms' },
    });
    env.emu.control.resetCounters();
    const m = stackManifest('leaky', 'heat', { template: { inline: hot('x') } });
    m.spec.providerRef = { name: 'cleartext' } as never;
    await env.apply(m);
    const s = await env.waitStack('leaky', (x) => cond(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(cond(s, 'Stalled')?.message).toContain('allowPlainHTTP');
    const ready = await until('the provider condition', async () => {
      const p = await env.client.get<ProviderObject>(STACK_PROVIDERS, env.ns, 'cleartext');
      return p.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready.status).toBe('False');
    expect(Object.keys(env.emu.control.requestCounts()).filter((key) => key.startsWith('keystone'))).toEqual([]);
  });
});
