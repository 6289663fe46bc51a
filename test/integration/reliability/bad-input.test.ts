// A bad-input corpus against the running operator (a child process): each input ends in a clear
// Stalled reason (or is refused at admission), the operator stays alive, and over a window neither the
// provider requests for that Stack nor its status writes keep growing (no hot loop).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Informer } from '../../../src/runtime/informer.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { STACKS } from '../../../src/api/v1alpha1/resources.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { testKubeconfigPath } from '../../env/kube.ts';
import { cond, hot, stackManifest } from '../stacks/harness.ts';
import { type RelEnv, sleep, startRelEnv } from './env.ts';
import { type OperatorProcess, startOperatorProcess } from './operator-process.ts';

let env: RelEnv;
let op: OperatorProcess;
let writes: Informer<StackObject>;
const updates = new Map<string, number>();

beforeAll(async () => {
  env = await startRelEnv({ kubeconfig: testKubeconfigPath(), providers: ['heat', 'ros'], prefix: 'rel-bad' });
  // Count every write to each Stack (spec or status) as seen by a watch.
  writes = new Informer<StackObject>(env.client, { resource: STACKS, namespaces: [env.ns], log: silentLogger });
  writes.onUpdate((_o, n) => updates.set(n.metadata.name ?? '', (updates.get(n.metadata.name ?? '') ?? 0) + 1));
  writes.start();
  op = startOperatorProcess({ kubeconfig: env.kubeconfig, namespaces: [env.ns] });
}, 120_000);

afterAll(async () => {
  await writes?.stop();
  await op?.kill();
  await env?.close();
});

const heatSpec = async (): Promise<Record<string, unknown>> =>
  (JSON.parse((await env.kubectl(['get', 'stackprovider', 'heat', '-n', env.ns, '-o', 'json'])).stdout) as { spec: { heat: Record<string, unknown> } }).spec.heat;

async function provider(name: string, heat: Record<string, unknown>): Promise<void> {
  await env.apply({ apiVersion: 'stackoperator.dev/v1alpha1', kind: 'StackProvider', metadata: { name }, spec: { heat, allowPlainHTTP: true, pollInterval: '200ms' } });
}

/** Waits for Stalled (or Reconciling, for transient causes) with one of `reasons`, then checks that it stays quiet. */
async function expectSettledBad(name: string, reasons: string[], kind: 'Stalled' | 'Reconciling' = 'Stalled'): Promise<void> {
  const s = await env.waitStack(name, (x) => cond(x, kind)?.status === 'True' && reasons.includes(cond(x, kind)?.reason ?? ''), `${kind} ${reasons.join('|')}`, 40_000);
  expect(cond(s, 'Ready')?.status).not.toBe('True');
  expect(cond(s, kind)?.message?.length ?? 0).toBeGreaterThan(10);
  const c0 = env.counts('heat', name);
  const w0 = updates.get(name) ?? 0;
  await sleep(3000);
  const c1 = env.counts('heat', name);
  expect(c1.create + c1.rejected - (c0.create + c0.rejected), 'provider calls for this Stack stay bounded').toBeLessThanOrEqual(1);
  expect((updates.get(name) ?? 0) - w0, 'status writes stay bounded (no hot loop)').toBeLessThanOrEqual(3);
  expect(op.alive, op.logs().slice(-2000)).toBe(true);
}

describe('bad input corpus', () => {
  it('a malformed string template (YAML syntax error): Stalled InvalidSpec', async () => {
    await env.apply(stackManifest('bad-yaml', 'heat', { template: { inline: 'heat_template_version: 2018-08-31\nresources: [unclosed\n  x: {' } }));
    await expectSettledBad('bad-yaml', ['InvalidSpec']);
  });

  it('a template the provider rejects (unknown resource type): Stalled InvalidSpec', async () => {
    await env.apply(stackManifest('bad-type', 'heat', { template: { inline: { heat_template_version: '2018-08-31', resources: { x: { type: 'OS::Nope::Nothing' } } } } }));
    await expectSettledBad('bad-type', ['InvalidSpec']);
  });

  it('an object template over 512 KiB passes admission and ends Stalled TemplateTooLarge', async () => {
    const big = hot('big');
    (big as unknown as { description: string }).description = 'x'.repeat(600 * 1024);
    await env.apply(stackManifest('too-large', 'heat', { template: { inline: big } }));
    await expectSettledBad('too-large', ['TemplateTooLarge']);
    expect(env.counts('heat', 'too-large')).toMatchObject({ create: 0, rejected: 0 });
  });

  it('an unknown parameter: Stalled InvalidSpec', async () => {
    await env.apply(stackManifest('bad-param', 'heat', { template: { inline: hot('p') }, parameters: { nosuchparameter: 'x' } }));
    await expectSettledBad('bad-param', ['InvalidSpec']);
  });

  it('a parametersFrom Secret that does not exist: Stalled ParametersNotFound', async () => {
    await env.apply(stackManifest('bad-pfrom', 'heat', { template: { inline: hot('p') }, parametersFrom: [{ kind: 'Secret', name: 'nope', key: 'k' }] }));
    await expectSettledBad('bad-pfrom', ['ParametersNotFound', 'InvalidSpec']);
  });

  it('a credential Secret with the wrong keys: Stalled CredentialsInvalid', async () => {
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-shape' }, stringData: { user: 'demo', pass: 'x' } });
    await provider('wrongshape', { ...(await heatSpec()), credentialsSecretRef: { name: 'wrong-shape' } });
    await env.apply(stackManifest('bad-secret', 'heat', { template: { inline: hot('s') }, providerRef: { name: 'wrongshape' } }));
    await expectSettledBad('bad-secret', ['CredentialsInvalid', 'InvalidSpec']);
  });

  it('a credential Secret that does not exist: Stalled CredentialsInvalid', async () => {
    await provider('nosecret', { ...(await heatSpec()), credentialsSecretRef: { name: 'does-not-exist' } });
    await env.apply(stackManifest('no-secret', 'heat', { template: { inline: hot('s') }, providerRef: { name: 'nosecret' } }));
    await expectSettledBad('no-secret', ['CredentialsInvalid', 'InvalidSpec']);
  });

  it('an unreachable endpoint (loopback port with nothing listening): a clear reason, bounded retries, alive', async () => {
    const port = await freePort();
    await provider('unreachable', { ...(await heatSpec()), authUrl: `http://127.0.0.1:${port}/identity/v3` });
    await env.apply(stackManifest('unreach', 'heat', { template: { inline: hot('u') }, providerRef: { name: 'unreachable' } }));
    // Not a spec problem: it may heal by itself, so it is Reconciling (ProviderUnavailable) with backoff.
    await expectSettledBad('unreach', ['ProviderUnavailable', 'ProviderNotReady', 'RetryScheduled'], 'Reconciling');
  });

  it('providerOptions for another provider type: refused at admission or Stalled InvalidSpec', async () => {
    const r = await env.kubectl(
      ['apply', '-n', env.ns, '--server-side', '--field-manager=test', '-f', '-'],
      JSON.stringify(stackManifest('bad-opts', 'heat', { template: { inline: hot('o') }, providerOptions: { ros: { cancelType: 'Quick' } } })),
    );
    if (r.code !== 0) {
      expect(r.stderr).toMatch(/providerOptions|Invalid/);
      return;
    }
    await expectSettledBad('bad-opts', ['InvalidSpec']);
  });

  it('schema violations are refused at admission (bad stackName, two template sources, unknown deletionPolicy)', async () => {
    for (const spec of [
      { stackName: '9-starts-with-a-digit', template: { inline: hot('a') } },
      { template: { inline: hot('a'), url: 'https://example.com/t.yaml' } },
      { template: { inline: hot('a') }, deletionPolicy: 'Shred' },
    ]) {
      const r = await env.kubectl(['apply', '-n', env.ns, '-f', '-'], JSON.stringify(stackManifest('adm', 'heat', spec)));
      expect(r.code, JSON.stringify(spec)).not.toBe(0);
    }
  });

  it('an inline template nested 2,000 levels deep: Stalled InvalidSpec, and deleting it does not depend on it', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 2000; i++) deep = { d: deep };
    await env.apply(stackManifest('too-deep', 'heat', { template: { inline: { heat_template_version: '2018-08-31', description: 'x', parameters: deep } } }));
    await expectSettledBad('too-deep', ['InvalidSpec']);
    const s = await env.waitStack('too-deep', (x) => cond(x, 'Stalled')?.message?.includes('levels deep') ?? false, 'depth message');
    expect(cond(s, 'Stalled')?.message).toContain('100');
    const d = await env.kubectl(['delete', 'stack', 'too-deep', '-n', env.ns, '--timeout=30s']);
    expect(d.code, d.stderr).toBe(0);
  });

  it('a parametersFrom Secret value that is not text: Stalled InvalidSpec naming the key, never mangled', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]).toString('base64');
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bin-params' }, data: { message: binary } });
    await env.apply(stackManifest('bin-param', 'heat', { template: { inline: hot('b') }, parametersFrom: [{ kind: 'Secret', name: 'bin-params' }] }));
    await expectSettledBad('bin-param', ['InvalidSpec']);
    const s = await env.waitStack('bin-param', (x) => cond(x, 'Stalled')?.message?.includes('binary') ?? false, 'binary message');
    expect(cond(s, 'Stalled')?.message).toContain('message');
    expect(env.counts('heat', 'bin-param')).toMatchObject({ create: 0 });
  });

  it('parameters over 256 KiB in all after parametersFrom: Stalled InvalidSpec, nothing sent', async () => {
    await env.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge-params' }, data: { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(100 * 1024) } });
    await env.apply(stackManifest('huge-param', 'heat', { template: { inline: hot('h') }, parametersFrom: [{ kind: 'ConfigMap', name: 'huge-params' }] }));
    await expectSettledBad('huge-param', ['InvalidSpec']);
    expect(env.counts('heat', 'huge-param')).toMatchObject({ create: 0 });
  });

  it('after the whole corpus the operator is alive and still converges a good Stack', async () => {
    await env.apply(stackManifest('good', 'heat', { template: { inline: hot('g') } }));
    await env.waitStack('good', (x) => cond(x, 'Ready')?.status === 'True', 'Ready', 30_000);
    expect(op.alive).toBe(true);
    expect(op.grep('"level":60').length + op.grep('uncaught').length).toBe(0);
  });
});
