// The Helm chart and the kustomize tree, offline: helm lint, the values schema, what `helm template`
// renders for each values mode, and that every copy in the chart (CRDs, admission policy, Argo CD
// health check) equals its single source. Also the Dockerfile, checked statically (no container
// engine here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderChartFiles, staleChartFiles } from '../../../scripts/sync-chart-crds.ts';
import { kubectl } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { CHART_DIR, type K8sObject, find, ensureHelm, helmRunner, must, parseDocs } from './helpers.ts';

const helm = helmRunner('/dev/null');
beforeAll(() => ensureHelm(), 2_400_000);
const template = async (...args: string[]): Promise<K8sObject[]> =>
  parseDocs(must(await helm(['template', 'so', CHART_DIR, '-n', 'stack-operator', ...args]), `helm template ${args.join(' ')}`));

type Container = {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: Record<string, unknown>;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
};
type PodSpec = { securityContext: Record<string, unknown>; containers: Container[]; serviceAccountName: string };
const podSpec = (d: K8sObject): PodSpec => (d as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const rules = (o: K8sObject): Rule[] => (o as unknown as { rules: Rule[] }).rules;

/** Rules as a sorted set of "group/resource[/name]:verb" atoms, so equal grants compare equal. */
function atoms(rs: Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rs) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) for (const n of r.resourceNames ?? ['*']) out.add(`${g}/${res}/${n}:${v}`);
  return [...out].sort();
}

describe('helm lint and values.schema.json', () => {
  it('helm lint --strict passes with the defaults and with the namespaced / HA values', async () => {
    must(await helm(['lint', '--strict', CHART_DIR]), 'helm lint');
    must(
      await helm(['lint', '--strict', CHART_DIR, '--set', 'watchNamespaces={team-a,team-b}', '--set', 'replicaCount=2', '--set', 'podDisruptionBudget.enabled=true', '--set', 'metrics.serviceMonitor.enabled=true']),
      'helm lint (namespaced, HA)',
    );
  });

  it('the schema accepts values.yaml and rejects typos and wrong types (helm and ajv agree)', async () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...values, watchNamespace: ['a'] })).toBe(false);
    expect(validate({ ...values, logLevel: 'verbose' })).toBe(false);
    expect(validate({ ...values, pollInterval: '5 seconds' })).toBe(false);
    for (const bad of [['--set', 'crds.keeep=true'], ['--set', 'logLevel=verbose'], ['--set', 'maxConcurrentReconciles=0'], ['--set', 'watchNamespaces={Bad_NS}']]) {
      const r = await helm(['template', 'so', CHART_DIR, ...bad]);
      expect(r.code, `helm template ${bad.join(' ')} should fail`).not.toBe(0);
      expect(r.stderr).toMatch(/schema|values/i);
    }
  });
});

describe('helm template: defaults', () => {
  it('renders a hardened Deployment: non-root, read-only root, seccomp, no capabilities, probes, resources, POD_* env, args from values', async () => {
    const objs = await template();
    const d = find(objs, 'Deployment', 'so-stack-operator');
    const spec = podSpec(d);
    expect(spec.serviceAccountName).toBe('so-stack-operator');
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    const c = spec.containers[0] as Container;
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    for (const r of [c.resources.requests, c.resources.limits]) expect(Object.keys(r ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(c.ports).toEqual(expect.arrayContaining([{ name: 'probes', containerPort: 8081, protocol: 'TCP' }, { name: 'metrics', containerPort: 8080, protocol: 'TCP' }]));
    expect(c.env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath ?? e.value])).toEqual([
      ['POD_NAME', 'metadata.name'],
      ['POD_NAMESPACE', 'metadata.namespace'],
      // V8's heap bounded inside the memory limit (sized from `npm run bench`, docs/benchmarks.md).
      ['NODE_OPTIONS', '--max-semi-space-size=8 --max-old-space-size=320'],
    ]);
    expect(c.resources.limits?.memory).toBe('512Mi');
    expect(c.args[0]).toBe('run');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--leader-elect',
        '--leader-election-id=stack-operator',
        '--leader-election-namespace=stack-operator',
        '--metrics-bind-address=:8080',
        '--health-probe-bind-address=:8081',
        '--max-concurrent-reconciles=10',
        '--log-level=info',
      ]),
    );
    expect(c.args.some((a) => a.startsWith('--namespaces'))).toBe(false);
    expect((d as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
  });

  it('renders CRDs with keep, cluster-wide RBAC, the leader-election Role, the metrics Service and the admission policy; no PDB, ServiceMonitor or Argo CD ConfigMap', async () => {
    const objs = await template();
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole/so-stack-operator-edit',
        'ClusterRole/so-stack-operator-manager',
        'ClusterRole/so-stack-operator-view',
        'ClusterRoleBinding/so-stack-operator-manager',
        'CustomResourceDefinition/clusterstackproviders.stackoperator.dev',
        'CustomResourceDefinition/stackproviders.stackoperator.dev',
        'CustomResourceDefinition/stacks.stackoperator.dev',
        'Deployment/so-stack-operator',
        'Role/so-stack-operator-leader-election',
        'RoleBinding/so-stack-operator-leader-election',
        'Service/so-stack-operator-metrics',
        'ServiceAccount/so-stack-operator',
        'ValidatingAdmissionPolicy/stackoperator.dev-deletion-protection',
        'ValidatingAdmissionPolicyBinding/stackoperator.dev-deletion-protection',
        'ValidatingAdmissionPolicy/stackoperator.dev-operator-managed-objects-so-stack-operator',
        'ValidatingAdmissionPolicyBinding/stackoperator.dev-operator-managed-objects-so-stack-operator',
      ].sort(),
    );
    for (const crd of objs.filter((o) => o.kind === 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    }
    const le = find(objs, 'Role', 'so-stack-operator-leader-election');
    expect(le.metadata.namespace).toBe('stack-operator');
    expect(atoms(rules(le))).toEqual(['coordination.k8s.io/leases/*:create', 'coordination.k8s.io/leases/stack-operator:get', 'coordination.k8s.io/leases/stack-operator:update']);
    // Least privilege: no wildcards, no Secret list/watch, no escalation verbs.
    const manager = atoms(rules(find(objs, 'ClusterRole', 'so-stack-operator-manager')));
    expect(manager.filter((a) => a.includes('*:') && !a.includes('/*:'))).toEqual([]);
    expect(manager.filter((a) => /^\/secrets\/.*:(list|watch|delete)$/.test(a))).toEqual([]);
    expect(manager.filter((a) => /:(escalate|bind|impersonate|\*)$/.test(a))).toEqual([]);
    const svc = find(objs, 'Service', 'so-stack-operator-metrics') as unknown as { spec: { ports: { port: number; targetPort: string }[] } };
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
  });
});

describe('helm template: values modes', () => {
  it('watchNamespaces: Roles in those namespaces only, a ClusterRole just for ClusterStackProviders, --namespaces', async () => {
    const objs = await template('--set', 'watchNamespaces={team-a,team-b}', '--set', 'rbac.extraSecretNamespaces={shared-creds}');
    expect(objs.filter((o) => o.kind === 'ClusterRole' && o.metadata.name === 'so-stack-operator-manager')).toEqual([]);
    const roles = objs.filter((o) => o.kind === 'Role' && o.metadata.name === 'so-stack-operator-manager');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    const cluster = find(objs, 'ClusterRole', 'so-stack-operator-clusterstackproviders');
    // Cluster-scoped reads only: ClusterStackProviders, and namespaces by name (a namespaceSelector).
    expect(atoms(rules(cluster)).every((a) => a.startsWith('stackoperator.dev/clusterstackproviders') || a === '/namespaces/*:get')).toBe(true);
    const creds = find(objs, 'Role', 'so-stack-operator-credentials');
    expect(creds.metadata.namespace).toBe('shared-creds');
    expect(atoms(rules(creds))).toEqual(['/secrets/*:get']);
    expect(podSpec(find(objs, 'Deployment')).containers[0]?.args).toContain('--namespaces=team-a,team-b');
  });

  it('operator flags follow the values', async () => {
    const objs = await template(
      '--set', 'leaderElection.enabled=false',
      '--set', 'labelSelector=shard=a',
      '--set', 'maxConcurrentReconciles=3',
      '--set', 'logLevel=debug',
      '--set', 'metrics.enabled=false',
      '--set', 'pollInterval=2s',
      '--set', 'extraArgs={--resync-interval=5m}',
    );
    const args = podSpec(find(objs, 'Deployment')).containers[0]?.args ?? [];
    expect(args).toEqual(expect.arrayContaining(['--label-selector=shard=a', '--max-concurrent-reconciles=3', '--log-level=debug', '--metrics-bind-address=0', '--poll-interval=2s', '--resync-interval=5m']));
    expect(args.some((a) => a.startsWith('--leader-elect'))).toBe(false);
    expect(objs.filter((o) => o.metadata.name.endsWith('leader-election'))).toEqual([]);
    expect(objs.filter((o) => o.kind === 'Service')).toEqual([]);
  });

  it('optional objects: ServiceMonitor, PodDisruptionBudget; CRDs, keep and admission can be turned off', async () => {
    const objs = await template('--set', 'metrics.serviceMonitor.enabled=true', '--set', 'podDisruptionBudget.enabled=true', '--set', 'replicaCount=2');
    const sm = find(objs, 'ServiceMonitor') as unknown as { spec: { endpoints: { port: string; path: string }[] } };
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    expect((find(objs, 'PodDisruptionBudget') as unknown as { spec: Record<string, unknown> }).spec).toMatchObject({ maxUnavailable: 1 });
    const bad = await helm(['template', 'so', CHART_DIR, '--set', 'podDisruptionBudget.enabled=true', '--set', 'podDisruptionBudget.minAvailable=1', '--set', 'podDisruptionBudget.maxUnavailable=null']);
    expect(bad.stderr).toMatch(/minAvailable must be below replicaCount/);

    const noKeep = await template('--set', 'crds.keep=false', '--set', 'crds.annotations.argocd\\.argoproj\\.io/sync-options=ServerSideApply=true');
    for (const crd of noKeep.filter((o) => o.kind === 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-options': 'ServerSideApply=true' });
    }
    const bare = await template(
      '--set',
      'crds.enabled=false',
      '--set',
      'admission.deletionProtection.enabled=false',
      '--set',
      'admission.operatorManagedObjects.enabled=false',
      '--set',
      'rbac.aggregateToDefaultRoles=false',
    );
    expect(bare.filter((o) => ['CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind))).toEqual([]);
    expect(bare.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual(['so-stack-operator-manager']);
  });
});

describe('single sources: the chart copies equal crds/, config/admission/ and config/argocd/', () => {
  it('scripts/sync-chart-crds.ts --check: no chart file is stale (fix: node scripts/sync-chart-crds.ts)', () => {
    expect(staleChartFiles()).toEqual([]);
    expect([...renderChartFiles().keys()]).toEqual(expect.arrayContaining(['templates/crds/stacks.stackoperator.dev.yaml', 'templates/admission-deletion-protection.yaml', 'files/argocd-health.lua']));
  });

  it('the CRDs helm renders equal crds/*.yaml (spec, name, labels; only the keep annotation is a value)', async () => {
    const rendered = (await template()).filter((o) => o.kind === 'CustomResourceDefinition');
    const source = parseDocs(
      ['stacks', 'stackproviders', 'clusterstackproviders'].map((n) => readFileSync(join(repoRoot, 'crds', `${n}.stackoperator.dev.yaml`), 'utf8')).join('\n---\n'),
    );
    expect(rendered.map((o) => o.metadata.name).sort()).toEqual(source.map((o) => o.metadata.name).sort());
    for (const src of source) {
      const got = find(rendered, 'CustomResourceDefinition', src.metadata.name);
      expect(got.spec, src.metadata.name).toEqual(src.spec);
      expect(got.metadata.labels).toMatchObject(src.metadata.labels ?? {});
      expect(got.metadata.annotations).toEqual(src.metadata.annotations);
    }
  });

  it('the admission policy helm renders equals config/admission/deletion-protection.yaml', async () => {
    const rendered = await template();
    const source = parseDocs(readFileSync(join(repoRoot, 'config', 'admission', 'deletion-protection.yaml'), 'utf8'));
    for (const src of source) {
      const got = find(rendered, src.kind, src.metadata.name);
      expect(got.spec).toEqual(src.spec);
    }
  });
});

describe('config/ (kustomize)', () => {
  const build = async (dir: string): Promise<K8sObject[]> => parseDocs(must(await kubectl(['kustomize', join(repoRoot, 'config', dir)]), `kubectl kustomize config/${dir}`));

  it('config/default: CRDs, RBAC, Deployment, metrics Service, admission policy, in namespace stack-operator; no samples', async () => {
    const objs = await build('default');
    expect(objs.filter((o) => ['Stack', 'StackProvider', 'ClusterStackProvider', 'Secret'].includes(o.kind))).toEqual([]);
    expect(objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort()).toEqual([
      'clusterstackproviders.stackoperator.dev',
      'stackproviders.stackoperator.dev',
      'stacks.stackoperator.dev',
    ]);
    for (const o of objs) {
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind);
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(clusterScoped ? undefined : 'stack-operator');
    }
    const d = find(objs, 'Deployment', 'stack-operator-controller-manager');
    const c = podSpec(d).containers[0] as Container;
    expect(podSpec(d).securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.args).toEqual(expect.arrayContaining(['run', '--leader-elect', '--leader-election-namespace=stack-operator']));
    // The same admission policy as config/admission, and the same CRDs as crds/.
    for (const [name, file] of [
      ['stackoperator.dev-deletion-protection', 'deletion-protection.yaml'],
      ['stackoperator.dev-operator-managed-objects', 'operator-managed-objects.yaml'],
    ] as const) {
      const src = parseDocs(readFileSync(join(repoRoot, 'config', 'admission', file), 'utf8'));
      expect(find(objs, 'ValidatingAdmissionPolicy', name).spec).toEqual(find(src, 'ValidatingAdmissionPolicy').spec);
    }
  });

  it('grants exactly what the chart grants (manager ClusterRole, leader-election Role, aggregated roles)', async () => {
    const kz = await build('default');
    const chart = await template();
    expect(atoms(rules(find(kz, 'ClusterRole', 'stack-operator-manager-role')))).toEqual(atoms(rules(find(chart, 'ClusterRole', 'so-stack-operator-manager'))));
    expect(atoms(rules(find(kz, 'Role', 'stack-operator-leader-election-role')))).toEqual(atoms(rules(find(chart, 'Role', 'so-stack-operator-leader-election'))));
    expect(atoms(rules(find(kz, 'ClusterRole', 'stack-operator-edit')))).toEqual(atoms(rules(find(chart, 'ClusterRole', 'so-stack-operator-edit'))));
    expect(atoms(rules(find(kz, 'ClusterRole', 'stack-operator-view')))).toEqual(atoms(rules(find(chart, 'ClusterRole', 'so-stack-operator-view'))));
    // And the same hardening on the pod.
    const a = podSpec(find(kz, 'Deployment'));
    const b = podSpec(find(chart, 'Deployment'));
    expect(a.securityContext).toEqual(b.securityContext);
    expect(a.containers[0]?.securityContext).toEqual(b.containers[0]?.securityContext);
    expect(a.containers[0]?.resources).toEqual(b.containers[0]?.resources);
  });

  it('config/crd is crds/, config/samples still builds', async () => {
    expect((await build('crd')).map((o) => o.metadata.name).sort()).toEqual(['clusterstackproviders.stackoperator.dev', 'stackproviders.stackoperator.dev', 'stacks.stackoperator.dev']);
    expect((await build('samples')).filter((o) => o.kind === 'Stack')).toHaveLength(7);
  });
});

describe('Dockerfile (static: no container engine on this machine)', () => {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => /^FROM\s/i.test(l));

  it('multi-stage on a Node 24 base; production deps with npm ci --omit=dev; compiled with npm run build', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const nodeImage = /^ARG NODE_IMAGE=(\S+)/m.exec(text)?.[1] ?? '';
    expect(nodeImage).toMatch(/^(node:24[.-]|gcr\.io\/distroless\/nodejs24)/);
    // The base is pinned by digest: a tag alone lets a rebuild take another base (docs/install.md).
    expect(nodeImage).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const s of stages) expect(s).toMatch(/^FROM (\$\{NODE_IMAGE\}|node:24|gcr\.io\/distroless\/nodejs24)/);
    expect(lines).toContain('RUN npm run build');
    expect(lines.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    // The final stage takes only production node_modules and dist/, never the sources or dev deps.
    const final = lines.slice(lines.lastIndexOf(stages[stages.length - 1] as string));
    const copies = final.filter((l) => l.startsWith('COPY'));
    expect(copies).toEqual(['COPY --from=deps /app/node_modules ./node_modules', 'COPY --from=build /app/dist ./dist', 'COPY package.json ./']);
  });

  it('runs as a numeric non-root USER, entry point node dist/cli/main.js run', () => {
    const user = lines.filter((l) => l.startsWith('USER ')).pop() ?? '';
    expect(user).toMatch(/^USER [1-9][0-9]*(:[0-9]+)?$/);
    expect(lines).toContain('ENTRYPOINT ["node", "dist/cli/main.js"]');
    expect(lines).toContain('CMD ["run"]');
    // The chart runs the image with the same UID.
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number } };
    expect(user).toContain(String(values.podSecurityContext.runAsUser));
  });

  it('.dockerignore keeps the build context small (no node_modules, .git, test/, dist/)', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', '.git', 'test', 'dist']) expect(ignored).toContain(p);
    // Everything the Dockerfile copies is in the context.
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from'))) {
      for (const src of l.split(/\s+/).slice(1, -1)) expect(ignored, src).not.toContain(src.replace(/\/$/, ''));
    }
  });

  it('the YAML files of the chart and config/ parse (no tabs, no duplicate keys)', () => {
    for (const f of ['charts/stack-operator/values.yaml', 'charts/stack-operator/Chart.yaml', 'config/default/kustomization.yaml', 'config/argocd/kustomization.yaml']) {
      for (const d of parseAllDocuments(readFileSync(join(repoRoot, f), 'utf8'))) expect(d.errors, f).toEqual([]);
    }
  });
});
