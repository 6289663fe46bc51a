// The CRDs on a real kube-apiserver: they install, every sample is accepted, a corpus of bad input is
// rejected with a message that names the offending field, and kubectl explain documents the API.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from '../../../src/devenv/crds.ts';
import { deleteNamespace, kubectl, testKubeconfigPath, uniqueNamespace } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';

let ns = '';
beforeAll(async () => {
  await installCrds(testKubeconfigPath());
  ns = await uniqueNamespace('api');
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

const heatProvider = { heat: { authUrl: 'http://127.0.0.1:1/v3', credentialsSecretRef: { name: 'c' } } };

function stack(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name, ...metadata },
    spec: { providerRef: { name: 'p' }, template: { inline: { heat_template_version: '2018-08-31' } }, ...spec },
  };
}

function provider(kind: 'StackProvider' | 'ClusterStackProvider', name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'stackoperator.dev/v1alpha1', kind, metadata: { name }, spec };
}

async function create(obj: unknown) {
  return kubectl(['create', '-n', ns, '-f', '-'], { input: stringify(obj) });
}

describe('CRDs on a real API server', () => {
  it('installs all three and they become Established', async () => {
    const r = await kubectl(['get', 'crd', '-l', 'app.kubernetes.io/name=stack-operator', '-o', 'name']);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/clusterstackproviders.stackoperator.dev',
      'customresourcedefinition.apiextensions.k8s.io/stackproviders.stackoperator.dev',
      'customresourcedefinition.apiextensions.k8s.io/stacks.stackoperator.dev',
    ]);
  });

  it('accepts every sample in config/samples', async () => {
    const r = await kubectl(['apply', '-n', ns, '-k', join(repoRoot, 'config', 'samples')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cluster = await kubectl(['apply', '-f', join(repoRoot, 'config', 'samples', 'cluster-provider.yaml')]);
    expect(cluster.code, cluster.stderr).toBe(0);
    const list = await kubectl(['get', 'stk', '-n', ns, '-o', 'name']);
    expect(list.stdout.trim().split('\n')).toHaveLength(7);
    await kubectl(['delete', '-f', join(repoRoot, 'config', 'samples', 'cluster-provider.yaml')]);
  });

  it('accepts the samples for real clouds in config/samples/real (server-side dry run)', async () => {
    const r = await kubectl(['apply', '-n', ns, '--dry-run=server', '-f', join(repoRoot, 'config', 'samples', 'real')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/stack\.stackoperator\.dev\/hello-/g)).toHaveLength(4);
  });

  it('defaults fields as the contract says', async () => {
    const r = await create(stack('defaults', {}));
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse((await kubectl(['get', 'stack', 'defaults', '-n', ns, '-o', 'json'])).stdout) as {
      spec: Record<string, unknown>;
    };
    expect(got.spec).toMatchObject({
      deletionPolicy: 'Delete',
      deletionProtection: false,
      usePreviousParameters: false,
      disableRollback: false,
      timeoutMinutes: 60,
      suspend: false,
      providerRef: { kind: 'StackProvider', name: 'p' },
    });
  });

  // Each case: an invalid object and the fragments the API server's message must contain (the field).
  const tooManyParams = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, 'v']));
  const tooManyTags = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i}`, 'v']));
  const corpus: [string, unknown, string[]][] = [
    ['no template', { ...stack('bad-1', {}), spec: { providerRef: { name: 'p' } } }, ['spec.template', 'Required']],
    ['no providerRef', { ...stack('bad-2', {}), spec: { template: { url: 'https://x/t.yaml' } } }, ['spec.providerRef', 'Required']],
    ['empty template', stack('bad-3', { template: {} }), ['spec.template', 'must validate one and only one schema (oneOf). Found none valid']],
    [
      'two template sources',
      stack('bad-4', { template: { url: 'https://x/t.yaml', configMapRef: { name: 'a', key: 'b' } } }),
      ['spec.template', 'Found 2 valid alternatives'],
    ],
    ['template url not http', stack('bad-5', { template: { url: 'ftp://x/t' } }), ['spec.template.url']],
    ['configMapRef without key', stack('bad-6', { template: { configMapRef: { name: 'a' } } }), ['spec.template.configMapRef.key', 'Required']],
    [
      'inline template over 512 KiB',
      stack('bad-7', { template: { inline: 'x'.repeat(524289) } }),
      ['spec.template.inline', 'Too long: may not be more than 524288 bytes'],
    ],
    ['bad stackName', stack('bad-8', { stackName: '1-starts-with-digit' }), ['spec.stackName']],
    ['stackName too long', stack('bad-9', { stackName: 'a'.repeat(256) }), ['spec.stackName', '255']],
    ['name not a stack name', stack('9bad', {}), ['spec.stackName', 'metadata.name is not a valid stack name']],
    ['timeoutMinutes 0', stack('bad-10', { timeoutMinutes: 0 }), ['spec.timeoutMinutes', 'greater than or equal to 1']],
    ['timeoutMinutes too large', stack('bad-11', { timeoutMinutes: 100000 }), ['spec.timeoutMinutes', 'less than or equal to 1440']],
    ['deletionPolicy enum', stack('bad-12', { deletionPolicy: 'Destroy' }), ['spec.deletionPolicy', 'Unsupported value: "Destroy"']],
    [
      'onSpecChangeDuringUpdate enum',
      stack('bad-13', { updatePolicy: { onSpecChangeDuringUpdate: 'Ignore' } }),
      ['spec.updatePolicy.onSpecChangeDuringUpdate', 'Unsupported value'],
    ],
    ['cancelMode enum', stack('bad-14', { updatePolicy: { cancelMode: 'Later' } }), ['spec.updatePolicy.cancelMode', 'Unsupported value']],
    ['201 parameters', stack('bad-15', { parameters: tooManyParams }), ['spec.parameters', 'must have at most 200']],
    ['21 tags', stack('bad-16', { tags: tooManyTags }), ['spec.tags', 'must have at most 20']],
    ['non-string parameter', stack('bad-17', { parameters: { size: 3 } }), ['spec.parameters.size', 'must be of type string']],
    ['providerRef kind enum', stack('bad-18', { providerRef: { kind: 'Secret', name: 'p' } }), ['spec.providerRef.kind', 'Unsupported value']],
    [
      'two providerOptions blocks',
      stack('bad-19', { providerOptions: { heat: {}, ros: {} } }),
      ['spec.providerOptions', 'at most one of providerOptions'],
    ],
    ['ros cancelType enum', stack('bad-20', { providerOptions: { ros: { cancelType: 'Slow' } } }), ['spec.providerOptions.ros.cancelType']],
    [
      'parametersFrom parameter without key',
      stack('bad-21', { parametersFrom: [{ kind: 'Secret', name: 's', parameter: 'x' }] }),
      ['spec.parametersFrom[0]', 'parameter needs key'],
    ],
    ['parametersFrom kind enum', stack('bad-22', { parametersFrom: [{ kind: 'Pod', name: 's' }] }), ['spec.parametersFrom[0].kind']],
    ['provider with no block', provider('StackProvider', 'bad-p1', {}), ['spec', 'exactly one of spec.heat, spec.rfs, spec.ros or spec.cloudFoundry']],
    [
      'provider with two blocks',
      provider('StackProvider', 'bad-p2', {
        ...heatProvider,
        ros: { regionId: 'cn-hangzhou', credentialsSecretRef: { name: 'c' } },
      }),
      ['spec', 'exactly one of spec.heat'],
    ],
    ['heat without authUrl', provider('StackProvider', 'bad-p3', { heat: { credentialsSecretRef: { name: 'c' } } }), ['spec.heat.authUrl', 'Required']],
    [
      'rfs without projectId',
      provider('StackProvider', 'bad-p4', { rfs: { region: 'cn-north-4', credentialsSecretRef: { name: 'c' } } }),
      ['spec.rfs.projectId', 'Required'],
    ],
    [
      'ros apiVersion enum',
      provider('StackProvider', 'bad-p5', { ros: { regionId: 'r', apiVersion: '2020-01-01', credentialsSecretRef: { name: 'c' } } }),
      ['spec.ros.apiVersion', 'Unsupported value'],
    ],
    [
      'ros stackPolicyBody with stackPolicyURL',
      stack('bad-23', { providerOptions: { ros: { stackPolicyBody: { Statement: [] }, stackPolicyURL: 'oss://b/p' } } }),
      ['spec.providerOptions.ros', 'set stackPolicyBody or stackPolicyURL, not both'],
    ],
    [
      'ros stackPolicyDuringUpdateBody with stackPolicyDuringUpdateURL',
      stack('bad-24', { providerOptions: { ros: { stackPolicyDuringUpdateBody: {}, stackPolicyDuringUpdateURL: 'https://x/p' } } }),
      ['spec.providerOptions.ros', 'set stackPolicyDuringUpdateBody or stackPolicyDuringUpdateURL, not both'],
    ],
    ['allowPlainHTTP not a boolean', provider('StackProvider', 'bad-p8', { ...heatProvider, allowPlainHTTP: 'sometimes' }), ['spec.allowPlainHTTP']],
    ['bad pollInterval', provider('StackProvider', 'bad-p6', { ...heatProvider, pollInterval: 'soon' }), ['spec.pollInterval']],
    // The operator's parser reads a zero or unit-less duration as "use the default": admission refuses them.
    ['zero resyncInterval', provider('StackProvider', 'bad-p8', { ...heatProvider, resyncInterval: '0s' }), ['spec.resyncInterval', 'must be a positive duration such as 500ms, 30s, 5m or 1h30m']],
    ['pollInterval without unit', provider('StackProvider', 'bad-p9', { ...heatProvider, pollInterval: '5' }), ['spec.pollInterval', 'must be a positive duration']],
    ['pollInterval with a Go unit the operator ignores', provider('StackProvider', 'bad-p10', { ...heatProvider, pollInterval: '500us' }), ['spec.pollInterval', 'must be a positive duration']],
    ['pollInterval under the floor', provider('StackProvider', 'bad-p12', { ...heatProvider, pollInterval: '10ms' }), ['spec.pollInterval', 'must be at least 200ms']],
    ['resyncInterval under the floor', provider('StackProvider', 'bad-p13', { ...heatProvider, resyncInterval: '5s' }), ['spec.resyncInterval', 'must be at least 30s']],
    ['negative resyncInterval', provider('StackProvider', 'bad-p11', { ...heatProvider, resyncInterval: '-10m' }), ['spec.resyncInterval', 'must be a positive duration']],
    ['rateLimit qps 0', provider('StackProvider', 'bad-p7', { ...heatProvider, rateLimit: { qps: 0 } }), ['spec.rateLimit.qps', 'rateLimit.qps must be at least 0.01']],
    [
      'cluster provider without Secret namespace',
      provider('ClusterStackProvider', 'bad-cp1', heatProvider),
      ['spec.heat.credentialsSecretRef.namespace', 'Required'],
    ],
  ];

  it('has a bad-input corpus of at least 20 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
  });

  it.each(corpus)('rejects %s', async (_name, obj, fragments) => {
    const kind = (obj as { kind: string }).kind;
    const r =
      kind === 'ClusterStackProvider'
        ? await kubectl(['create', '-f', '-'], { input: stringify(obj) })
        : await create(obj);
    expect(r.code, `accepted unexpectedly: ${r.stdout}`).not.toBe(0);
    for (const f of fragments) expect(r.stderr).toContain(f);
  });

  it('accepts compound and fractional durations', async () => {
    const r = await create(provider('StackProvider', 'durations', { ...heatProvider, pollInterval: '1.5s', resyncInterval: '1h30m' }));
    expect(r.code, r.stderr).toBe(0);
  });

  it('rejects a change of stackName, and of providerRef', async () => {
    expect((await create(stack('immutable', { stackName: 'first' }))).code).toBe(0);
    const r = await kubectl(['patch', 'stack', 'immutable', '-n', ns, '--type=merge', '-p', '{"spec":{"stackName":"second"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.stackName');
    expect(r.stderr).toContain('spec.stackName is immutable');
    const p = await kubectl(['patch', 'stack', 'immutable', '-n', ns, '--type=merge', '-p', '{"spec":{"providerRef":{"name":"other"}}}']);
    expect(p.stderr).toContain('providerRef is immutable');
    // Setting stackName to the name it already defaults to is not a change.
    expect((await create(stack('implicit', {}))).code).toBe(0);
    const same = await kubectl(['patch', 'stack', 'implicit', '-n', ns, '--type=merge', '-p', '{"spec":{"stackName":"implicit"}}']);
    expect(same.code, same.stderr).toBe(0);
    const other = await kubectl(['patch', 'stack', 'implicit', '-n', ns, '--type=merge', '-p', '{"spec":{"stackName":"renamed"}}']);
    expect(other.stderr).toContain('spec.stackName is immutable');
  });

  it('rejects a change of provider type', async () => {
    expect((await create(provider('StackProvider', 'typed', heatProvider))).code).toBe(0);
    const r = await kubectl([
      'patch', 'stackprovider', 'typed', '-n', ns, '--type=json',
      '-p', '[{"op":"remove","path":"/spec/heat"},{"op":"add","path":"/spec/ros","value":{"regionId":"r","credentialsSecretRef":{"name":"c"}}}]',
    ]);
    expect(r.stderr).toContain('the provider type cannot change');
  });

  it('documents the API through kubectl explain', async () => {
    const r = await kubectl(['explain', 'stack.spec.deletionPolicy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('What happens to the cloud stack when this object is deleted');
    expect(r.stdout).toContain('RetainResources');
    const p = await kubectl(['explain', 'clusterstackprovider.spec.heat.credentialsSecretRef']);
    expect(p.stdout).toContain('applicationCredentialId');
  });

  it('prints the contract\'s columns and answers to the stk short name', async () => {
    const r = await kubectl(['get', 'stk', '-n', ns]);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+STACK ID\s+STATUS\s+READY\s+REASON\s+AGE/);
  });
});
