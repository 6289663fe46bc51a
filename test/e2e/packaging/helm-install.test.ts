// The Helm chart on a real kube-apiserver: server-side dry-run of what it renders, helm install, then
// the operator run with the chart's own Deployment args and a token of the chart's ServiceAccount
// (there is no kubelet, so the Deployment's pod never runs) reconciling a Stack to Ready against the
// emulator: proof that the chart's RBAC is sufficient. Then what the ServiceAccount must NOT be able
// to do, the admission policy, helm upgrade to namespaced RBAC (and the operator working with it),
// and helm uninstall keeping the CRDs and the Stacks.
//
// A dedicated control plane: the chart installs cluster-scoped objects (CRDs with Helm ownership,
// ClusterRoles, the admission policy) and a cluster-wide operator, which must not meet the shared
// plane's other tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { type ControlPlane, startControlPlane } from '../../../src/devenv/control-plane.ts';
import { kubectl } from '../../env/kube.ts';
import { k8sBinDir, repoRoot } from '../../../src/devenv/paths.ts';
import { providerObjects } from '../../integration/stacks/harness.ts';
import {
  CHART_DIR,
  type K8sObject,
  type OperatorProcess,
  type StackLike,
  checkMatrix,
  clusterWideMatrix,
  forbiddenLines,
  getJson,
  heatTemplate,
  ensureHelm,
  helmRunner,
  isReady,
  must,
  parseDocs,
  run,
  serviceAccountKubeconfig,
  startOperator,
  waitFor,
} from './helpers.ts';

type CrdShape = { spec: { names: Record<string, unknown>; versions: { name: string; schema: unknown }[] } };

const RELEASE = 'so';
const NS = 'stack-operator';
const SA = { namespace: NS, name: 'so-stack-operator' };
const APPS = 'apps';
const OTHER = 'other';

let cp: ControlPlane;
let emu: Emulator;
let helm: ReturnType<typeof helmRunner>;
let saConfig: { path: string; cleanup(): void } | undefined;
let operator: OperatorProcess | undefined;
const kc = (args: string[], input?: string) => kubectl(args, { kubeconfig: cp.kubeconfigPath, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  await ensureHelm();
  cp = await startControlPlane({ controllerManager: false });
  helm = helmRunner(cp.kubeconfigPath);
  emu = await startEmulator({ operationSpeed: 0.05 });
  for (const ns of [NS, APPS, OTHER]) must(await kc(['create', 'namespace', ns]), `create namespace ${ns}`);
}, 2_400_000);

afterAll(async () => {
  await operator?.stop();
  saConfig?.cleanup();
  await emu?.close();
  await cp?.stop();
});

async function apply(ns: string, objs: unknown[]): Promise<void> {
  must(await kc(['apply', '-n', ns, '--server-side', '--field-manager=test', '-f', '-'], objs.map((o) => stringify(o)).join('---\n')), 'kubectl apply');
}

function stack(name: string, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name },
    spec: { providerRef: { name: 'heat' }, template: { inline: heatTemplate(name) }, ...spec },
  };
}

const getStack = (ns: string, name: string) => getJson<StackLike & { metadata: { finalizers?: string[] } }>(cp.kubeconfigPath, ['stack', name, '-n', ns]);

/** The operator as the chart's pod would run it: the Deployment's args, the ServiceAccount's token. */
async function runAsChartPod(): Promise<OperatorProcess> {
  const deploy = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(cp.kubeconfigPath, ['deployment', 'so-stack-operator', '-n', NS]);
  const args = (deploy?.spec.template.spec.containers[0]?.args ?? []).filter((a) => !/^--(metrics-bind-address|health-probe-bind-address)=/.test(a));
  expect(args[0]).toBe('run');
  saConfig ??= await serviceAccountKubeconfig(cp.kubeconfigPath, cp.server, cp.caFile, NS, SA.name);
  return startOperator([...args.slice(1), `--kubeconfig=${saConfig.path}`, '--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'], {
    POD_NAME: 'so-stack-operator-7d4b9c-abcde',
    POD_NAMESPACE: NS,
  });
}

describe('helm chart on a real API server', () => {
  it('helm template | kubectl apply --dry-run=server accepts every object (defaults and namespaced mode)', async () => {
    for (const values of [[], ['--set', `watchNamespaces={${APPS},${OTHER}}`, '--set', 'podDisruptionBudget.enabled=true', '--set', 'replicaCount=2', '--set', 'argocd.healthCheck.enabled=true']]) {
      const rendered = must(await helm(['template', RELEASE, CHART_DIR, '-n', NS, ...values]), 'helm template');
      // Every namespaced object names its namespace (release namespace, or a watched one).
      const r = await kc(['apply', '--dry-run=server', '-f', '-'], rendered);
      expect(r.code, `${values.join(' ')}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/deployment.apps\/so-stack-operator (created|configured) \(server dry run\)/);
    }
  });

  it('helm install (no --wait: no kubelet here) creates the release', async () => {
    must(await helm(['install', RELEASE, CHART_DIR, '-n', NS]), 'helm install');
    must(await kc(['wait', '--for=condition=Established', '--timeout=60s', 'crd/stacks.stackoperator.dev', 'crd/stackproviders.stackoperator.dev', 'crd/clusterstackproviders.stackoperator.dev']), 'CRDs Established');
    const status = JSON.parse(must(await helm(['status', RELEASE, '-n', NS, '-o', 'json']), 'helm status')) as { info: { status: string } };
    expect(status.info.status).toBe('deployed');
    must(await kc(['get', 'serviceaccount', SA.name, '-n', NS]), 'ServiceAccount exists');
  });

  it('the CRD schemas the API server stored from the chart equal crds/*.yaml (as Helm / Go YAML read them: no timestamps for dates)', async () => {
    for (const name of ['stacks', 'stackproviders', 'clusterstackproviders']) {
      const source = parseDocs(readFileSync(join(repoRoot, 'crds', `${name}.stackoperator.dev.yaml`), 'utf8'))[0] as unknown as CrdShape;
      const stored = await getJson<CrdShape>(cp.kubeconfigPath, ['crd', `${name}.stackoperator.dev`]);
      expect(stored?.spec.versions.map((v) => v.schema)).toEqual(source.spec.versions.map((v) => v.schema));
      expect(stored?.spec.names).toMatchObject(source.spec.names);
    }
  });

  it('the operator with the chart args and the ServiceAccount token reconciles a Stack to Ready (outputs, events, Lease, provider status): the RBAC is sufficient', async () => {
    await apply(APPS, providerObjects(emu, 'heat'));
    await apply(APPS, [stack('web', { outputs: { secretName: 'web-out', configMapName: 'web-out' } })]);
    operator = await runAsChartPod();
    const s = await waitFor('Stack apps/web Ready', async () => {
      const st = await getStack(APPS, 'web');
      return st && isReady(st) ? st : undefined;
    }, 90_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\noperator logs:\n${operator?.logs().slice(-4000)}`);
    });
    expect(s.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    // Outputs Secret + ConfigMap (create via server-side apply), events, the provider's status, the Lease.
    await waitFor('outputs', async () => (await kc(['get', 'secret/web-out', 'configmap/web-out', '-n', APPS])).code === 0, 30_000);
    await waitFor('events about web', async () => (await kc(['get', 'events.events.k8s.io', '-n', APPS, '--field-selector', 'regarding.name=web', '-o', 'name'])).stdout.trim() !== '', 30_000);
    const provider = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(cp.kubeconfigPath, ['stackprovider', 'heat', '-n', APPS]);
    expect(provider?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const lease = await getJson<{ spec: { holderIdentity?: string } }>(cp.kubeconfigPath, ['lease', 'stack-operator', '-n', NS]);
    expect(lease?.spec.holderIdentity).toMatch(/^so-stack-operator-7d4b9c-abcde_/);
    // Deletion: the operator deletes the cloud stack and removes its finalizer (a patch).
    must(await kc(['delete', 'stack', 'web', '-n', APPS, '--wait=false']), 'delete stack');
    await waitFor('Stack apps/web gone', async () => (await getStack(APPS, 'web')) === undefined, 60_000);
    expect(forbiddenLines(operator.logs())).toEqual([]);
    expect(await operator.stop()).toBe(0);
    operator = undefined;
  });

  it('the ServiceAccount can do what the operator needs and nothing else (no Secret list, no pods, no deletes)', async () => {
    expect(await checkMatrix(cp.kubeconfigPath, SA, clusterWideMatrix(APPS, NS))).toEqual([]);
  });

  it('the chart\'s admission policy denies deleting a protected Stack, and says how to proceed', async () => {
    await apply(APPS, [stack('guarded', { deletionProtection: true, suspend: true })]);
    const denied = await waitFor('delete denied', async () => {
      const r = await kc(['delete', 'stack', 'guarded', '-n', APPS, '--wait=false']);
      return r.code !== 0 ? r : undefined;
    }, 30_000);
    expect(denied.stderr).toMatch(/deletionProtection: true.*kubectl patch stack guarded -n apps/s);
    must(await kc(['patch', 'stack', 'guarded', '-n', APPS, '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']), 'unprotect');
    must(await kc(['delete', 'stack', 'guarded', '-n', APPS, '--wait=false']), 'delete unprotected');
  });

  it('helm upgrade to watchNamespaces: Roles only there, new args; the operator still reconciles there and ignores other namespaces', async () => {
    const upgraded = must(
      await helm([
        'upgrade', RELEASE, CHART_DIR, '-n', NS,
        '--set', `watchNamespaces={${APPS}}`,
        '--set', 'maxConcurrentReconciles=3',
        '--set', 'logLevel=debug',
        '--set', 'replicaCount=2',
        '--set', 'podDisruptionBudget.enabled=true',
        '--set', 'argocd.healthCheck.enabled=true',
      ]),
      'helm upgrade',
    );
    // The command NOTES.txt prints merges the health check into an existing argocd-cm.
    must(await kc(['create', 'namespace', 'argocd']), 'namespace argocd');
    must(await kc(['create', 'configmap', 'argocd-cm', '-n', 'argocd', '--from-literal=url=https://argocd.example.com']), 'argocd-cm');
    const merge = upgraded.split('\n').find((l) => l.trim().startsWith('kubectl -n argocd patch configmap argocd-cm'));
    expect(merge, upgraded).toBeDefined();
    const sh = await run('bash', ['-c', merge ?? 'false'], { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${k8sBinDir()}:${process.env.PATH ?? ''}` } });
    expect(sh.code, sh.stderr).toBe(0);
    const argocdCm = await getJson<{ data: Record<string, string> }>(cp.kubeconfigPath, ['configmap', 'argocd-cm', '-n', 'argocd']);
    expect(argocdCm?.data.url).toBe('https://argocd.example.com');
    expect(argocdCm?.data['resource.customizations.health.stackoperator.dev_Stack']).toBe(readFileSync(join(repoRoot, 'config', 'argocd', 'health.lua'), 'utf8'));
    const deploy = await getJson<{ spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }>(cp.kubeconfigPath, ['deployment', 'so-stack-operator', '-n', NS]);
    expect(deploy?.spec.replicas).toBe(2);
    expect(deploy?.spec.template.spec.containers[0]?.args).toEqual(expect.arrayContaining([`--namespaces=${APPS}`, '--max-concurrent-reconciles=3', '--log-level=debug']));
    expect((await kc(['get', 'clusterrole', 'so-stack-operator-manager'])).code).not.toBe(0);
    must(await kc(['get', 'role', 'so-stack-operator-manager', '-n', APPS]), 'Role in apps');
    must(await kc(['get', 'poddisruptionbudget', 'so-stack-operator', '-n', NS]), 'PDB');
    const can = (verb: string, res: string, ns?: string) =>
      kc(['auth', 'can-i', verb, res, ...(ns ? ['-n', ns] : ['-A']), `--as=system:serviceaccount:${NS}:${SA.name}`]).then((r) => r.stdout.trim());
    expect(await can('list', 'stacks.stackoperator.dev', APPS)).toBe('yes');
    expect(await can('list', 'stacks.stackoperator.dev', OTHER)).toBe('no');
    expect(await can('list', 'stacks.stackoperator.dev')).toBe('no');
    expect(await can('get', 'secrets', APPS)).toBe('yes');
    expect(await can('get', 'secrets', OTHER)).toBe('no');
    expect(await can('list', 'clusterstackproviders.stackoperator.dev')).toBe('yes');

    await apply(OTHER, providerObjects(emu, 'heat'));
    await apply(OTHER, [stack('outside')]);
    await apply(APPS, [stack('inside')]);
    operator = await runAsChartPod();
    await waitFor('Stack apps/inside Ready', async () => {
      const st = await getStack(APPS, 'inside');
      return st && isReady(st);
    }, 90_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\noperator logs:\n${operator?.logs().slice(-4000)}`);
    });
    expect((await getStack(OTHER, 'outside'))?.status).toBeUndefined();
    expect(forbiddenLines(operator.logs())).toEqual([]);
    expect(await operator.stop()).toBe(0);
    operator = undefined;
  });

  it('helm uninstall keeps the CRDs (crds.keep) and with them every Stack; removes the rest', async () => {
    const out = must(await helm(['uninstall', RELEASE, '-n', NS]), 'helm uninstall');
    expect(out).toMatch(/kept due to the resource policy/i);
    for (const crd of ['stacks', 'stackproviders', 'clusterstackproviders']) must(await kc(['get', 'crd', `${crd}.stackoperator.dev`]), `CRD ${crd} kept`);
    // The Stack (with the operator's finalizer, operator gone) is still there.
    expect((await getStack(APPS, 'inside'))?.metadata.finalizers).toContain('stackoperator.dev/finalizer');
    const leftovers = parseDocs(
      (await kc(['get', 'deployment,serviceaccount,role,rolebinding', '-n', NS, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'yaml'])).stdout,
    ) as (K8sObject & { items?: unknown[] })[];
    expect(leftovers[0]?.items ?? []).toEqual([]);
    for (const o of ['clusterrole/so-stack-operator-clusterstackproviders', 'clusterrole/so-stack-operator-edit', 'validatingadmissionpolicy/stackoperator.dev-deletion-protection']) {
      expect((await kc(['get', o])).code, o).not.toBe(0);
    }
  });
});
