// Shared providers can be restricted (tenant-safety issue, item 3): a ClusterStackProvider's
// namespaceSelector; a Stack in a namespace it does not select is Stalled/ProviderNotAllowed, and
// recovers by itself once the namespace is selected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from '../stacks/harness.ts';
import { mutations } from './util.ts';

let env: OperatorEnv;
const provider = () => `blue-only-${env.ns}`;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'], operator: { readCacheMs: 0 } });
  const c = env.emu.credentials.keystone;
  await env.apply({
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'ClusterStackProvider',
    metadata: { name: provider() },
    spec: {
      heat: { authUrl: env.emu.endpoints.keystone, region: c.region, projectName: c.projectName, credentialsSecretRef: { name: 'heat-creds', namespace: env.ns } },
      pollInterval: '200ms',
      allowPlainHTTP: true,
      namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['blue'] }] },
    },
  });
});
afterAll(async () => {
  await kubectl(['delete', 'clusterstackprovider', provider(), '--ignore-not-found']);
  await env?.stop();
});

describe('ClusterStackProvider namespaceSelector', () => {
  it('refuses a namespace it does not select, without a provider call, then serves it once labelled', async () => {
    const m = stackManifest('app', 'heat', { stackName: 'scoped', template: { inline: hot('x') } });
    m.spec.providerRef = { kind: 'ClusterStackProvider', name: provider() } as never;
    await env.apply(m);
    const s = await env.waitStack('app', (x) => cond(x, 'Stalled')?.reason === 'ProviderNotAllowed', 'ProviderNotAllowed');
    expect(cond(s, 'Stalled')?.message).toContain('team in (blue)');
    expect(mutations(env, 'heat', 'scoped').create).toBe(0);

    const r = await kubectl(['label', 'namespace', env.ns, 'team=blue']);
    expect(r.code, r.stderr).toBe(0);
    await env.waitStack('app', isReady, 'Ready once the namespace is selected');
    expect(mutations(env, 'heat', 'scoped').create).toBe(1);
  });
});
