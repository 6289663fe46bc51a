// spec.dependsOn and parametersFrom kind: Stack on a real kube-apiserver: admission rejects what can
// never work with a message naming the field, accepts the layered sample, and kubectl explain documents it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from '../../../src/devenv/crds.ts';
import { deleteNamespace, kubectl, testKubeconfigPath, uniqueNamespace } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';

let ns = '';
beforeAll(async () => {
  await installCrds(testKubeconfigPath());
  ns = await uniqueNamespace('api-deps');
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

function stack(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name },
    spec: { providerRef: { name: 'p' }, template: { inline: { heat_template_version: '2018-08-31' } }, ...spec },
  };
}
const create = (obj: unknown) => kubectl(['create', '-n', ns, '-f', '-'], { input: stringify(obj) });
const deps = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `d${i}` }));

describe('dependencies at admission', () => {
  it.each([
    ['a self-dependency', stack('selfish', { dependsOn: [{ name: 'selfish' }] }), ['spec.dependsOn', 'a Stack cannot depend on itself']],
    ['33 dependsOn entries', stack('greedy', { dependsOn: deps(33) }), ['spec.dependsOn', 'must have at most 32 items']],
    ['a duplicate dependsOn entry', stack('twice', { dependsOn: [{ name: 'a' }, { name: 'a' }] }), ['spec.dependsOn[1]', 'Duplicate value']],
    ['a dependsOn name that is no object name', stack('badname', { dependsOn: [{ name: 'Not_A_Name' }] }), ['spec.dependsOn[0].name']],
    ['a Stack source without key', stack('nokey', { parametersFrom: [{ kind: 'Stack', name: 'net' }] }), ['spec.parametersFrom[0].key', 'needs key']],
    ['an optional Stack source', stack('maybe', { parametersFrom: [{ kind: 'Stack', name: 'net', key: 'k', optional: true }] }), ['spec.parametersFrom[0].optional', 'optional is not supported for kind: Stack']],
    ['its own outputs as parameters', stack('loop', { parametersFrom: [{ kind: 'Stack', name: 'loop', key: 'k' }] }), ['spec.parametersFrom', 'cannot read parameters from its own outputs']],
  ] as [string, unknown, string[]][])('rejects %s', async (_n, obj, fragments) => {
    const r = await create(obj);
    expect(r.code, `accepted unexpectedly: ${r.stdout}`).not.toBe(0);
    for (const f of fragments) expect(r.stderr).toContain(f);
  });

  it('accepts 32 dependencies, a Stack source with a parameter name, and the layered sample', async () => {
    expect((await create(stack('wide', { dependsOn: deps(32) }))).stderr).toBe('');
    const r = await create(stack('wired', { dependsOn: [{ name: 'a' }], parametersFrom: [{ kind: 'Stack', name: 'net', key: 'subnet_id', parameter: 'SubnetId' }] }));
    expect(r.code, r.stderr).toBe(0);
    const sample = await kubectl(['apply', '-n', ns, '-f', join(repoRoot, 'config', 'samples', 'stack-layered.yaml')]);
    expect(sample.code, sample.stderr).toBe(0);
  });

  it('documents dependsOn and the Stack source through kubectl explain', async () => {
    const d = await kubectl(['explain', 'stack.spec.dependsOn']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('WaitingForDependencies');
    expect(d.stdout).toContain('DependentsExist');
    const k = await kubectl(['explain', 'stack.spec.parametersFrom.kind']);
    expect(k.stdout).toContain('status.outputs');
  });
});
