// The controller-runtime twin of `npm run bench -- --twin` (test/bench/twin) does the operator's job
// for one Stack on the real kube-apiserver against the emulator over HTTP: create, update on a spec
// change, Ready with observedGeneration, delete through its finalizer. Guards the bench's peer: a twin
// that does not converge would make the side-by-side figures meaningless.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { KubeClient, MERGE_PATCH } from '../../../src/runtime/kube-client.ts';
import { SECRETS, STACKS, STACK_PROVIDERS } from '../../../src/api/v1alpha1/resources.ts';
import { FINALIZER } from '../../../src/api/v1alpha1/types.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { installCrds } from '../../../src/devenv/crds.ts';
import { deleteNamespace, testKubeConfig, testKubeconfigPath, uniqueNamespace } from '../../env/kube.ts';
import { waitUntil, type OperatorChild } from '../../bench/lib.ts';
import { buildTwinAsync, spawnTwin } from '../../bench/twin.ts';

let emu: Emulator;
let twin: OperatorChild;
let client: KubeClient;
let ns: string;

beforeAll(async () => {
  await buildTwinAsync(); // cached by source hash; a cold build compiles controller-runtime and client-go
  await installCrds(testKubeconfigPath());
  client = new KubeClient(testKubeConfig());
  ns = await uniqueNamespace('twin');
  emu = await startEmulator({ operationSpeed: 0.05 });
  const c = emu.credentials.keystone;
  await client.create(SECRETS, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'heat-creds' }, stringData: { username: c.username, password: c.password } });
  await client.create(STACK_PROVIDERS, ns, {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'StackProvider',
    metadata: { name: 'heat' },
    spec: { heat: { authUrl: emu.endpoints.keystone, region: c.region, projectName: c.projectName, credentialsSecretRef: { name: 'heat-creds' } }, allowPlainHTTP: true, pollInterval: '200ms' },
  });
  const dir = join(tmpdir(), 'stack-operator-twin-test');
  mkdirSync(dir, { recursive: true });
  twin = spawnTwin({
    kubeconfig: testKubeconfigPath(),
    metricsPort: await freePort(),
    probePort: await freePort(),
    workers: 2,
    pollInterval: '200ms',
    resyncInterval: '10m',
    logFile: join(dir, `${ns}.log`),
    watchNamespace: ns,
  });
}, 1_200_000);

afterAll(async () => {
  await twin?.stop();
  await emu?.close();
  if (ns) await deleteNamespace(ns);
});

const get = async (name: string): Promise<StackObject | undefined> =>
  client.get<StackObject>(STACKS, ns, name).catch((err: unknown) => {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  });
const readyAt = (s: StackObject | undefined, gen: number): boolean =>
  s?.metadata.generation === gen &&
  s.status?.observedGeneration === gen &&
  s.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === gen) === true;

describe('controller-runtime twin (bench peer)', () => {
  it('creates, updates on a spec change and deletes through its finalizer', async () => {
    const template = { heat_template_version: '2018-08-31', parameters: { message: { type: 'string' } }, resources: { app: { type: 'OS::Heat::TestResource', properties: { value: { get_param: 'message' } } } } };
    await client.create(STACKS, ns, { apiVersion: 'stackoperator.dev/v1alpha1', kind: 'Stack', metadata: { name: 'twin-a' }, spec: { providerRef: { name: 'heat' }, template: { inline: template }, parameters: { message: 'v1' } } });
    expect(await waitUntil(async () => readyAt(await get('twin-a'), 1), 60_000, 100)).toBe(true);
    const s1 = await get('twin-a');
    expect(s1?.metadata.finalizers).toContain(FINALIZER);
    const rec = emu.engine.list({ provider: 'heat' }).find((r) => r.name === 'twin-a');
    expect([rec?.action, rec?.status]).toEqual(['CREATE', 'COMPLETE']);
    expect(s1?.status?.stackStatus).toBe('CREATE_COMPLETE');
    expect(s1?.status?.stackId).toBe(rec?.id);
    expect(rec?.params['message']).toBe('v1');

    await client.patch(STACKS, ns, 'twin-a', { spec: { parameters: { message: 'v2' } } }, { contentType: MERGE_PATCH });
    expect(await waitUntil(async () => readyAt(await get('twin-a'), 2), 60_000, 100)).toBe(true);
    const rec2 = emu.engine.get(rec?.id ?? '');
    expect([rec2?.action, rec2?.status]).toEqual(['UPDATE', 'COMPLETE']);
    expect(rec2?.params['message']).toBe('v2');

    await client.delete(STACKS, ns, 'twin-a');
    expect(await waitUntil(async () => (await get('twin-a')) === undefined, 60_000, 100)).toBe(true);
    expect(emu.engine.list({ provider: 'heat' }).filter((r) => r.name === 'twin-a')).toEqual([]);
  });
});
