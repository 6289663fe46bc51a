// spec.template is one unit for server-side apply (x-kubernetes-map-type: atomic; src/api/v1alpha1/schemas.ts
// says why): on a real kube-apiserver, an apply owns and replaces the whole template, a second manager
// conflicts on the template as a whole, strings still pass, and Stacks written under the previous,
// granular CRD keep accepting every kind of write after the CRD is upgraded. Its own control plane: the
// test installs an older CRD, which the shared one must never see.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { STACKS } from '../../../src/api/v1alpha1/resources.ts';
import { startControlPlane, type ControlPlane } from '../../../src/devenv/control-plane.ts';
import { CRD_NAMES, installCrds } from '../../../src/devenv/crds.ts';
import { runKubectl } from '../../../src/devenv/kubectl.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { patchStatus } from '../../../src/runtime/status.ts';
import { testKubeConfig } from '../../env/kube.ts';

let cp: ControlPlane;
const ns = 'atomic';
const kubectl = (args: string[], input?: string) => runKubectl(cp.kubeconfigPath, args, input === undefined ? {} : { input });

beforeAll(async () => {
  cp = await startControlPlane();
  expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
}, 180_000);
afterAll(async () => {
  await cp?.stop();
});

const template = (resources: Record<string, unknown>) => ({ heat_template_version: '2018-08-31', resources });
const res = (value: string) => ({ type: 'OS::Heat::TestResource', properties: { value } });

function stack(name: string, tpl: unknown) {
  return { apiVersion: 'stackoperator.dev/v1alpha1', kind: 'Stack', metadata: { name, namespace: ns }, spec: { providerRef: { name: 'p' }, template: { inline: tpl } } };
}

interface Stored {
  spec: { template: { inline: unknown } };
  metadata: { managedFields?: { manager: string; operation: string; subresource?: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[] };
}

async function get(name: string): Promise<Stored> {
  const r = await kubectl(['get', 'stk', name, '-n', ns, '-o', 'json', '--show-managed-fields']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Stored;
}

/** What `manager` owns of spec.template, as the API server tracks it. */
async function templateFields(name: string, manager: string): Promise<unknown> {
  const entry = (await get(name)).metadata.managedFields?.find((m) => m.manager === manager && m.subresource === undefined);
  return entry?.fieldsV1?.['f:spec']?.['f:template'];
}

const apply = (obj: unknown, manager: string) => kubectl(['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'], stringify(obj));
const clientSideApply = (obj: unknown) => kubectl(['apply', '-f', '-'], stringify(obj));

async function waitEstablished(): Promise<void> {
  const r = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)]);
  expect(r.code, r.stderr).toBe(0);
}

describe('spec.template is atomic for server-side apply', () => {
  it('Stacks written under the previous, granular CRD accept every write after the upgrade', async () => {
    // The previous release's Stack CRD: today's without the one line this change added.
    const current = readFileSync(join(repoRoot, 'crds', 'stacks.stackoperator.dev.yaml'), 'utf8');
    const previous = current.replace(/\n {18}x-kubernetes-map-type: atomic\n( {18}oneOf:\n {20}- required:\n {24}- inline\n)/, '\n$1');
    expect(previous).not.toBe(current);
    const file = join(cp.dir, 'stacks-granular.yaml');
    writeFileSync(file, previous);
    expect((await kubectl(['apply', '--server-side', '-f', file])).code).toBe(0);
    for (const crd of ['stackproviders', 'clusterstackproviders']) {
      expect((await kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds', `${crd}.stackoperator.dev.yaml`)])).code).toBe(0);
    }
    await waitEstablished();

    // Written the two ways users write them, under the granular schema: every leaf is tracked.
    expect((await clientSideApply(stack('csa', template({ a: res('1'), b: res('2') })))).code).toBe(0);
    expect((await apply(stack('ssa', template({ a: res('1'), b: res('2') })), 'alice')).code).toBe(0);
    expect(JSON.stringify(await templateFields('ssa', 'alice'))).toContain('f:resources');

    await installCrds(cp.kubeconfigPath);

    // The operator's status write (merge patch with the resourceVersion precondition).
    const client = new KubeClient(testKubeConfig(cp.kubeconfigPath));
    for (const name of ['csa', 'ssa']) {
      const rv = (await client.get<{ metadata: { resourceVersion: string } }>(STACKS, ns, name)).metadata.resourceVersion;
      const written = await patchStatus<{ metadata: { name: string }; status?: { observedGeneration?: number } }>(client, STACKS, { namespace: ns, name, resourceVersion: rv }, { observedGeneration: 1 });
      expect(written.status?.observedGeneration).toBe(1);
    }
    // kubectl apply (client-side) drops a resource and changes another.
    const csa = await clientSideApply(stack('csa', template({ a: res('changed') })));
    expect(csa.code, csa.stderr).toBe(0);
    expect((await get('csa')).spec.template.inline).toEqual(template({ a: res('changed') }));
    // The same manager applies server-side again: the whole template is its own, one field.
    const ssa = await apply(stack('ssa', template({ c: res('3') })), 'alice');
    expect(ssa.code, ssa.stderr).toBe(0);
    expect((await get('ssa')).spec.template.inline).toEqual(template({ c: res('3') }));
    expect(await templateFields('ssa', 'alice')).toEqual({});
  }, 120_000);

  it('one apply owns and replaces the whole template; another manager conflicts on the template as a whole', async () => {
    await installCrds(cp.kubeconfigPath);
    expect((await apply(stack('owned', template({ a: res('1'), b: res('2') })), 'alice')).code).toBe(0);
    expect(await templateFields('owned', 'alice')).toEqual({});

    const bob = await apply(stack('owned', template({ a: res('1'), b: res('other') })), 'bob');
    expect(bob.code).not.toBe(0);
    expect(bob.stderr).toMatch(/conflict with "alice"[^\n]*:\s*\.spec\.template\s*$/m);
    expect((await get('owned')).spec.template.inline).toEqual(template({ a: res('1'), b: res('2') }));

    // Taking it over replaces all of it: nothing of alice's template is merged into bob's.
    const forced = await kubectl(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], stringify(stack('owned', template({ z: res('9') }))));
    expect(forced.code, forced.stderr).toBe(0);
    expect((await get('owned')).spec.template.inline).toEqual(template({ z: res('9') }));
    expect(await templateFields('owned', 'alice')).toBeUndefined();
    expect(await templateFields('owned', 'bob')).toEqual({});
  }, 60_000);

  it('a template given as a string is still accepted and kept verbatim', async () => {
    await installCrds(cp.kubeconfigPath);
    const text = 'heat_template_version: 2018-08-31\nresources: {}\n';
    const r = await apply(stack('text', text), 'alice');
    expect(r.code, r.stderr).toBe(0);
    expect((await get('text')).spec.template.inline).toBe(text);
  }, 60_000);
});
