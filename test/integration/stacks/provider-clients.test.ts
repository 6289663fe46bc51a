// A provider object's client (keep-alive pool, token, credentials) lives exactly as long as the object
// and its spec: a spec change replaces and closes it, a deletion closes and drops it (issue 12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_PROVIDERS } from '../../../src/api/v1alpha1/resources.ts';
import { type ProviderDeps, ProviderRegistry, createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import type { StackProviderClient } from '../../../src/providers/types.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import type { ProviderObject } from '../../../src/stacks/context.ts';
import { kubectl } from '../../env/kube.ts';
import { until } from '../tenancy/util.ts';
import { type OperatorEnv, startOperatorEnv } from './harness.ts';

interface Made {
  key: string;
  closed: boolean;
}

const made: Made[] = [];
function trackingFactory(config: ResolvedProviderConfig, deps: ProviderDeps): StackProviderClient {
  const client = createProviderClient(config, deps);
  const entry: Made = { key: config.key, closed: false };
  made.push(entry);
  const close = client.close.bind(client);
  client.close = async () => {
    entry.closed = true;
    await close();
  };
  return client;
}

let env: OperatorEnv;
const registry = new ProviderRegistry({ logger: silentLogger }, trackingFactory);

beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'], operator: { providerClients: registry } });
});
afterAll(async () => env?.stop());

const readyGeneration = async (): Promise<number | undefined> => {
  const p = await env.client.get<ProviderObject>(STACK_PROVIDERS, env.ns, 'heat');
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? ready.observedGeneration : undefined;
};

describe('provider clients follow their provider object', () => {
  it('a spec change replaces and closes the client; a deletion closes and drops it', async () => {
    const gen1 = await until('provider Ready', readyGeneration);
    const live = () => made.filter((m) => m.key.startsWith(`StackProvider/${env.ns}/heat@`) && !m.closed);
    expect(live()).toHaveLength(1);
    const first = live()[0] as Made;

    const r = await kubectl(['patch', 'stackprovider', 'heat', '-n', env.ns, '--type=merge', '-p', '{"spec":{"rateLimit":{"qps":150,"burst":300}}}']);
    expect(r.code, r.stderr).toBe(0);
    await until('Ready at the new generation', async () => ((await readyGeneration()) ?? 0) > (gen1 ?? 0));
    expect(first.closed).toBe(true);
    expect(live()).toHaveLength(1);
    expect(registry.size).toBe(1);

    const d = await kubectl(['delete', 'stackprovider', 'heat', '-n', env.ns]);
    expect(d.code, d.stderr).toBe(0);
    await until('the client closed', () => live().length === 0);
    expect(registry.size).toBe(0);
  });
});
