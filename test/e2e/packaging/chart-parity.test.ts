// The chart's cert-manager / external-secrets style values (issue 20 item 3), rendered by the real helm:
// the replicaCount guard, NetworkPolicy, PodMonitor and ServiceMonitor relabelings, PrometheusRule,
// proxy env, strategy, probe timings, volumes and extraObjects. promtool is not available here, so
// the alert expressions are checked for the metric names the operator exports.
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, type K8sObject, find, ensureHelm, helmRunner, must, parseDocs } from './helpers.ts';

const helm = helmRunner('/dev/null');
beforeAll(() => ensureHelm(), 2_400_000);
const template = async (...args: string[]): Promise<K8sObject[]> =>
  parseDocs(must(await helm(['template', 'so', CHART_DIR, '-n', 'stack-operator', ...args]), `helm template ${args.join(' ')}`));
type Container = { env: { name: string; value?: string }[]; livenessProbe: Record<string, unknown>; readinessProbe: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[] };
type Deploy = { spec: { strategy?: Record<string, unknown>; template: { spec: { containers: Container[]; volumes: { name: string }[] } } } };
const deployment = (objs: K8sObject[]) => find(objs, 'Deployment') as unknown as Deploy;

describe('chart guard', () => {
  it('fails rendering for replicaCount > 1 without leader election, and renders it with', async () => {
    const r = await helm(['template', 'so', CHART_DIR, '--set', 'replicaCount=2', '--set', 'leaderElection.enabled=false']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('replicaCount > 1 needs leaderElection.enabled=true');
    await template('--set', 'replicaCount=2');
    await template('--set', 'replicaCount=1', '--set', 'leaderElection.enabled=false');
  });
});

describe('chart: optional objects and pod settings', () => {
  it('renders none of NetworkPolicy, PodMonitor, PrometheusRule by default, and no proxy env', async () => {
    const objs = await template();
    for (const k of ['NetworkPolicy', 'PodMonitor', 'PrometheusRule']) expect(objs.some((o) => o.kind === k), k).toBe(false);
    const env = deployment(objs).spec.template.spec.containers[0]?.env.map((e) => e.name) ?? [];
    expect(env).not.toContain('HTTPS_PROXY');
  });

  it('proxy.* become HTTP_PROXY / HTTPS_PROXY / NO_PROXY on the operator container', async () => {
    const objs = await template('--set', 'proxy.http=http://proxy:3128', '--set', 'proxy.https=http://proxy:3129', '--set', 'proxy.noProxy=.svc\\,10.0.0.0/8');
    const env = deployment(objs).spec.template.spec.containers[0]?.env ?? [];
    expect(env).toEqual(expect.arrayContaining([
      { name: 'HTTP_PROXY', value: 'http://proxy:3128' },
      { name: 'HTTPS_PROXY', value: 'http://proxy:3129' },
      { name: 'NO_PROXY', value: '.svc,10.0.0.0/8' },
    ]));
  });

  it('NetworkPolicy: ingress to metrics and probes only; egress to DNS, the API server and the providers', async () => {
    const objs = await template('--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.egress.apiServerCIDRs={10.0.0.1/32}', '--set', 'networkPolicy.egress.providerCIDRs={203.0.113.0/24}');
    const np = find(objs, 'NetworkPolicy') as unknown as { spec: { policyTypes: string[]; podSelector: unknown; ingress: { ports: { port: unknown }[] }[]; egress: { ports: { port: unknown }[]; to?: { ipBlock: { cidr: string } }[] }[] } };
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual(['metrics', 'probes']);
    const egress = np.spec.egress.map((r) => ({ ports: r.ports.map((p) => p.port), to: r.to?.map((t) => t.ipBlock.cidr) }));
    expect(egress).toEqual([
      { ports: [53, 53], to: undefined },
      { ports: [443, 6443], to: ['10.0.0.1/32'] },
      { ports: [443], to: ['203.0.113.0/24'] },
    ]);
  });

  it('PodMonitor next to the ServiceMonitor, both with relabelings', async () => {
    const relabel = '[{"sourceLabels":["__meta_kubernetes_pod_node_name"],"targetLabel":"node"}]';
    const objs = await template('--set', 'metrics.podMonitor.enabled=true', '--set', 'metrics.serviceMonitor.enabled=true',
      '--set-json', `metrics.podMonitor.relabelings=${relabel}`, '--set-json', `metrics.serviceMonitor.relabelings=${relabel}`,
      '--set-json', 'metrics.podMonitor.metricRelabelings=[{"action":"drop","regex":"nodejs_.*","sourceLabels":["__name__"]}]');
    const pm = find(objs, 'PodMonitor') as unknown as { spec: { podMetricsEndpoints: Record<string, unknown>[]; selector: unknown } };
    expect(pm.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', relabelings: JSON.parse(relabel) as unknown, metricRelabelings: [{ action: 'drop' }] });
    const sm = find(objs, 'ServiceMonitor') as unknown as { spec: { endpoints: Record<string, unknown>[] } };
    expect(sm.spec.endpoints[0]).toMatchObject({ relabelings: JSON.parse(relabel) as unknown });
  });

  it('PrometheusRule: Stalled Stacks, reconcile errors, provider not Ready, work queue depth', async () => {
    const objs = await template('--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.additionalLabels.team=platform');
    const rule = find(objs, 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string; expr: string; labels: Record<string, string>; for: string }[] }[] } };
    const rules = rule.spec.groups[0]?.rules ?? [];
    expect(rules.map((r) => r.alert)).toEqual(['StackOperatorStackStalled', 'StackOperatorReconcileErrors', 'StackOperatorProviderNotReady', 'StackOperatorWorkQueueDepth']);
    const expr = Object.fromEntries(rules.map((r) => [r.alert, r.expr]));
    expect(expr.StackOperatorStackStalled).toContain('stack_operator_stack_condition{condition="Stalled",status="True"}');
    expect(expr.StackOperatorReconcileErrors).toContain('controller_runtime_reconcile_errors_total{job=~"stack-operator"}');
    expect(expr.StackOperatorProviderNotReady).toContain('stack_operator_provider_condition{condition="Ready",status="False"}');
    expect(expr.StackOperatorWorkQueueDepth).toContain('workqueue_depth{job=~"stack-operator"}) > 100');
    for (const r of rules) expect(r.labels).toMatchObject({ severity: 'warning', team: 'platform' });
  });

  it('strategy, probe timings, volumes / volumeMounts and extraObjects follow the values', async () => {
    const objs = await template(
      '--set-json', 'strategy={"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}',
      '--set', 'livenessProbe.periodSeconds=7', '--set', 'readinessProbe.failureThreshold=9',
      '--set-json', 'volumes=[{"name":"ca","configMap":{"name":"corp-ca"}}]',
      '--set-json', 'volumeMounts=[{"name":"ca","mountPath":"/etc/corp-ca","readOnly":true}]',
      '--set-json', 'extraObjects=[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{ .Release.Name }}-extra"}}]',
    );
    const d = deployment(objs);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const c = d.spec.template.spec.containers[0] as Container;
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'probes' }, periodSeconds: 7 });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'probes' }, failureThreshold: 9 });
    expect(d.spec.template.spec.volumes.map((v) => v.name)).toEqual(['tmp', 'ca']);
    expect(c.volumeMounts.map((m) => m.mountPath)).toEqual(['/tmp', '/etc/corp-ca']);
    expect(find(objs, 'ConfigMap', 'so-extra')).toBeTruthy();
  });

  it('logFormat becomes --log-format (json by default)', async () => {
    type Args = { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const args = async (...a: string[]) => (find(await template(...a), 'Deployment') as unknown as Args).spec.template.spec.containers[0]?.args ?? [];
    expect(await args()).toContain('--log-format=json');
    expect(await args('--set', 'logFormat=text')).toContain('--log-format=text');
  });

  it('the schema rejects a misspelt new value', async () => {
    for (const bad of [['--set', 'logFormat=yaml'], ['--set', 'networkPolicy.enabeld=true'], ['--set', 'proxy.httpsProxy=x'], ['--set', 'strategy.type=BlueGreen'], ['--set', 'prometheusRule.stalledFor=soon']]) {
      const r = await helm(['template', 'so', CHART_DIR, ...bad]);
      expect(r.code, bad.join(' ')).not.toBe(0);
    }
  });
});

describe('chart: tenant safety (tenant-safety issue, items 3 and 6)', () => {
  type Role = { metadata: { name: string }; rules: { resources: string[]; verbs: string[] }[] };
  const editRole = (objs: K8sObject[]) => objs.find((o) => o.kind === 'ClusterRole' && (o as unknown as Role).metadata.name.endsWith('-edit')) as unknown as Role;
  const providerVerbs = (r: Role) => r.rules.filter((x) => x.resources.includes('stackproviders')).flatMap((x) => x.verbs);

  it('the aggregated edit role grants StackProvider create only with rbac.tenantsManageProviders', async () => {
    expect(providerVerbs(editRole(await template()))).toEqual(['get', 'list', 'watch']);
    expect(providerVerbs(editRole(await template('--set', 'rbac.tenantsManageProviders=true')))).toContain('create');
  });

  it("renders the managed-objects policy for this release's ServiceAccount, same rule as config/admission", async () => {
    const objs = await template();
    const policy = objs.find((o) => o.kind === 'ValidatingAdmissionPolicy' && JSON.stringify(o).includes('operator-managed-objects')) as unknown as {
      spec: { matchConditions: { expression: string }[]; validations: { expression: string }[] };
    };
    expect(policy.spec.matchConditions[0]?.expression).toContain("system:serviceaccount:stack-operator:so-stack-operator");
    const sa = find(objs, 'ServiceAccount') as unknown as { metadata: { name: string } };
    expect(policy.spec.matchConditions[0]?.expression).toContain(`:${sa.metadata.name}'`);
    expect(objs.some((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && JSON.stringify(o).includes('operator-managed-objects'))).toBe(true);
    const off = await template('--set', 'admission.operatorManagedObjects.enabled=false');
    expect(off.some((o) => JSON.stringify(o).includes('operator-managed-objects'))).toBe(false);
  });
});
