// Runs the real operator in-process against the shared test kube-apiserver and a fresh emulator, in a
// namespace of its own, with fast polling. Used by the Stack controller's integration tests.
import { stringify } from 'yaml';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { silentLogger, createLogger } from '../../../src/runtime/logging.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { type Operator, buildOperator, type OperatorOptions } from '../../../src/stacks/operator.ts';
import { STACKS } from '../../../src/api/v1alpha1/resources.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { installCrds } from '../../../src/devenv/crds.ts';
import { deleteNamespace, kubectl, testKubeConfig, testKubeconfigPath, uniqueNamespace } from '../../env/kube.ts';

export interface OperatorEnv {
  ns: string;
  emu: Emulator;
  client: KubeClient;
  manager: Manager;
  operator: Operator;
  apply(obj: unknown): Promise<void>;
  getStack(name: string): Promise<StackObject | undefined>;
  waitStack(name: string, pred: (s: StackObject) => boolean, what: string, timeoutMs?: number): Promise<StackObject>;
  waitGone(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export type ProviderKind = 'heat' | 'rfs' | 'ros' | 'ros-legacy' | 'cloudfoundry';

/** Secret + StackProvider for the emulator, named after the kind. */
export function providerObjects(emu: Emulator, kind: ProviderKind, poll = '200ms'): unknown[] {
  const c = emu.credentials;
  const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${kind}-creds` }, stringData: data });
  const provider = (spec: Record<string, unknown>) => ({
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'StackProvider',
    metadata: { name: kind },
    spec: { ...spec, allowPlainHTTP: true, pollInterval: poll, rateLimit: { qps: 200, burst: 400 } },
  });
  const ref = { credentialsSecretRef: { name: `${kind}-creds` } };
  switch (kind) {
    case 'heat':
      return [
        secret({ username: c.keystone.username, password: c.keystone.password }),
        provider({ heat: { authUrl: emu.endpoints.keystone, region: c.keystone.region, projectName: c.keystone.projectName, ...ref } }),
      ];
    case 'rfs':
      return [
        secret({ accessKeyId: c.rfs.accessKeyId, secretAccessKey: c.rfs.secretAccessKey }),
        provider({ rfs: { endpoint: emu.endpoints.rfs, region: c.rfs.region, projectId: c.rfs.projectId, ...ref } }),
      ];
    case 'ros':
    case 'ros-legacy':
      return [
        secret({ accessKeyId: c.ros.accessKeyId, accessKeySecret: c.ros.secretAccessKey }),
        provider({
          ros: {
            endpoint: kind === 'ros' ? emu.endpoints.ros : emu.endpoints.rosLegacy,
            regionId: c.ros.regionId,
            ...(kind === 'ros-legacy' ? { apiVersion: '2015-09-01' } : {}),
            ...ref,
          },
        }),
      ];
    case 'cloudfoundry':
      return [
        secret({ clientId: c.cloudFoundry.clientId, clientSecret: c.cloudFoundry.clientSecret }),
        provider({ cloudFoundry: { apiUrl: emu.endpoints.cloudFoundry, uaaUrl: emu.endpoints.uaa, spaceGuid: c.cloudFoundry.spaceGuid, ...ref } }),
      ];
  }
}

export async function startOperatorEnv(opts: {
  providers: ProviderKind[];
  operator?: OperatorOptions;
  emulator?: Parameters<typeof startEmulator>[0];
  verbose?: boolean;
}): Promise<OperatorEnv> {
  await installCrds(testKubeconfigPath());
  const ns = await uniqueNamespace('stacks');
  const emu = await startEmulator({ operationSpeed: 0.05, ...opts.emulator });
  const kc = testKubeConfig();
  const client = new KubeClient(kc);
  const log = opts.verbose || process.env.TEST_OPERATOR_LOGS ? createLogger({ level: 'debug' }) : silentLogger;
  const manager = new Manager({ kubeConfig: kc, client, log, metrics: false, probes: false });
  const operator = buildOperator(manager, {
    namespaces: [ns],
    pollIntervalMs: 200,
    readCacheMs: 0,
    backoff: { baseMs: 100, capMs: 2000 },
    planner: { retryBaseMs: 300, retryCapMs: 2000, createVisibilityGraceMs: 2000, timeoutGraceMs: 0, recheckBaseMs: 500, recheckCapMs: 2000 },
    ...opts.operator,
  });
  const running = manager.start();
  running.catch(() => undefined);

  const apply = async (obj: unknown): Promise<void> => {
    const r = await kubectl(['apply', '-n', ns, '--server-side', '--force-conflicts', '--field-manager=test', '-f', '-'], { input: JSON.stringify(obj) });
    if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}\n${stringify(obj)}`);
  };
  for (const kind of opts.providers) for (const o of providerObjects(emu, kind)) await apply(o);

  const getStack = async (name: string): Promise<StackObject | undefined> => {
    try {
      return await client.get<StackObject>(STACKS, ns, name);
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  const waitStack = async (name: string, pred: (s: StackObject) => boolean, what: string, timeoutMs = 30_000): Promise<StackObject> => {
    const deadline = Date.now() + timeoutMs;
    let last: StackObject | undefined;
    while (Date.now() < deadline) {
      last = await getStack(name);
      if (last && pred(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what} on stack ${name}; last status: ${JSON.stringify(last?.status ?? null, null, 1)}`);
  };
  const waitGone = async (name: string, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await getStack(name))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = await getStack(name);
    throw new Error(`stack ${name} still exists: ${JSON.stringify(last?.status ?? null)}`);
  };
  return {
    ns,
    emu,
    client,
    manager,
    operator,
    apply,
    getStack,
    waitStack,
    waitGone,
    stop: async () => {
      await manager.stop();
      await running.catch(() => undefined);
      await operator.close();
      // Release finalizers so the namespace can go (the operator is stopped).
      const list = await kubectl(['get', 'stacks', '-n', ns, '-o', 'name']);
      for (const n of list.stdout.split('\n').filter(Boolean)) {
        await kubectl(['patch', n, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      }
      await deleteNamespace(ns);
      await emu.close();
    },
  };
}

export const cond = (s: StackObject | undefined, type: string) => s?.status?.conditions?.find((c) => c.type === type);
export const isReady = (s: StackObject): boolean =>
  cond(s, 'Ready')?.status === 'True' && s.status?.observedGeneration === s.metadata.generation;

/** A HOT template with one TestResource whose waits are in (emulated) seconds. */
export function hot(value: string, waits: { create?: number; update?: number; delete?: number } = {}, extra: Record<string, unknown> = {}) {
  return {
    heat_template_version: '2018-08-31',
    parameters: { message: { type: 'string', default: value } },
    resources: {
      app: {
        type: 'OS::Heat::TestResource',
        properties: { value: { get_param: 'message' }, action_wait_secs: { create: waits.create ?? 1, update: waits.update ?? 1, delete: waits.delete ?? 1 }, ...extra },
      },
    },
    outputs: { message: { value: { get_attr: ['app', 'output'] } } },
  };
}

/** The same one-resource template in the dialect each provider speaks (HOT, ROS, Terraform JSON). */
export function templateFor(kind: ProviderKind, value: string, waits: { create?: number; update?: number; delete?: number } = {}): unknown {
  const props = { action_wait_secs: { create: waits.create ?? 1, update: waits.update ?? 1, delete: waits.delete ?? 1 } };
  switch (kind) {
    case 'heat':
      return hot(value, waits);
    case 'ros':
    case 'ros-legacy':
      return {
        ROSTemplateFormatVersion: '2015-09-01',
        Parameters: { message: { Type: 'String', Default: value } },
        Resources: { app: { Type: 'OS::Heat::TestResource', Properties: { value: { Ref: 'message' }, ...props } } },
        Outputs: { message: { Value: { 'Fn::GetAtt': ['app', 'output'] } } },
      };
    case 'rfs':
      return {
        variable: { message: { type: 'string', default: value } },
        resource: { test_resource: { app: { value: '${var.message}', ...props } } },
        output: { message: { value: '${test_resource.app.output}' } },
      };
    case 'cloudfoundry':
      return {};
  }
}

export function stackManifest(name: string, provider: ProviderKind, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name, ...metadata },
    spec: { providerRef: { name: provider }, ...spec },
  };
}
