// `kubectl apply -k config/default` on a real kube-apiserver: server-side dry-run of everything, then
// the real apply; the ServiceAccount gets exactly the chart's permissions (the same can-i matrix),
// and the operator run with config/manager's args and that ServiceAccount's token reconciles a Stack.
// A dedicated control plane (cluster-scoped objects, a cluster-wide operator).
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { type ControlPlane, startControlPlane } from '../../../src/devenv/control-plane.ts';
import { kubectl } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { providerObjects } from '../../integration/stacks/harness.ts';
import {
  type OperatorProcess,
  type StackLike,
  checkMatrix,
  clusterWideMatrix,
  forbiddenLines,
  getJson,
  heatTemplate,
  isReady,
  must,
  serviceAccountKubeconfig,
  startOperator,
  waitFor,
} from './helpers.ts';

const NS = 'stack-operator';
const SA = { namespace: NS, name: 'stack-operator-controller-manager' };
const APPS = 'apps';
const DEFAULT = join(repoRoot, 'config', 'default');

let cp: ControlPlane;
let emu: Emulator;
let operator: OperatorProcess | undefined;
let saConfig: { path: string; cleanup(): void } | undefined;
const kc = (args: string[], input?: string) => kubectl(args, { kubeconfig: cp.kubeconfigPath, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: false });
  emu = await startEmulator({ operationSpeed: 0.05 });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  saConfig?.cleanup();
  await emu?.close();
  await cp?.stop();
});

describe('kubectl apply -k config/default', () => {
  it('server-side dry-run accepts every object', async () => {
    // The Namespace has to exist before namespaced objects can be dry-run into it.
    must(await kc(['apply', '--server-side', '-f', join(repoRoot, 'config', 'manager', 'namespace.yaml')]), 'namespace');
    const r = await kc(['apply', '--server-side', '--dry-run=server', '-k', DEFAULT]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/deployment.apps\/stack-operator-controller-manager serverside-applied \(server dry run\)/);
  });

  it('applies: CRDs Established, admission policy, RBAC, Deployment in namespace stack-operator', async () => {
    must(await kc(['apply', '--server-side', '-k', DEFAULT]), 'kubectl apply -k config/default');
    must(await kc(['wait', '--for=condition=Established', '--timeout=60s', 'crd/stacks.stackoperator.dev', 'crd/stackproviders.stackoperator.dev', 'crd/clusterstackproviders.stackoperator.dev']), 'CRDs');
    for (const o of ['validatingadmissionpolicy/stackoperator.dev-deletion-protection', 'validatingadmissionpolicybinding/stackoperator.dev-deletion-protection', 'clusterrole/stack-operator-manager-role']) {
      must(await kc(['get', o]), o);
    }
    for (const o of ['deployment/stack-operator-controller-manager', 'serviceaccount/stack-operator-controller-manager', 'service/stack-operator-metrics', 'role/stack-operator-leader-election-role']) {
      must(await kc(['get', o, '-n', NS]), o);
    }
  });

  it('the ServiceAccount has the same permissions as the chart\'s (kubectl auth can-i --as)', async () => {
    must(await kc(['create', 'namespace', APPS]), 'namespace apps');
    expect(await checkMatrix(cp.kubeconfigPath, SA, clusterWideMatrix(APPS, NS))).toEqual([]);
  });

  it('the operator with config/manager\'s args and that ServiceAccount\'s token reconciles a Stack to Ready and deletes it', async () => {
    const apply = async (objs: unknown[]) =>
      must(await kc(['apply', '-n', APPS, '--server-side', '--field-manager=test', '-f', '-'], objs.map((o) => stringify(o)).join('---\n')), 'apply');
    await apply(providerObjects(emu, 'heat'));
    await apply([{ apiVersion: 'stackoperator.dev/v1alpha1', kind: 'Stack', metadata: { name: 'web' }, spec: { providerRef: { name: 'heat' }, template: { inline: heatTemplate('kz') }, outputs: { secretName: 'web-out' } } }]);
    const deploy = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(cp.kubeconfigPath, ['deployment', 'stack-operator-controller-manager', '-n', NS]);
    const args = (deploy?.spec.template.spec.containers[0]?.args ?? []).filter((a) => !/^--(metrics-bind-address|health-probe-bind-address)=/.test(a));
    saConfig = await serviceAccountKubeconfig(cp.kubeconfigPath, cp.server, cp.caFile, NS, SA.name);
    operator = startOperator([...args.slice(1), `--kubeconfig=${saConfig.path}`, '--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'], {
      POD_NAME: 'stack-operator-controller-manager-abc',
      POD_NAMESPACE: NS,
    });
    const getStack = () => getJson<StackLike>(cp.kubeconfigPath, ['stack', 'web', '-n', APPS]);
    await waitFor('Stack Ready', async () => {
      const s = await getStack();
      return s && isReady(s);
    }, 90_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\noperator logs:\n${operator?.logs().slice(-4000)}`);
    });
    await waitFor('outputs Secret', async () => (await kc(['get', 'secret/web-out', '-n', APPS])).code === 0, 30_000);
    must(await kc(['delete', 'stack', 'web', '-n', APPS, '--wait=false']), 'delete');
    await waitFor('Stack gone', async () => (await getStack()) === undefined, 60_000);
    expect(forbiddenLines(operator.logs())).toEqual([]);
    expect(await operator.stop()).toBe(0);
    operator = undefined;
  });
});
