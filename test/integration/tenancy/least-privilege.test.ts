// Least privilege by admission (tenant-safety issue, item 6): with the policy of
// config/admission/operator-managed-objects.yaml, the operator's ServiceAccount — its own token, with
// the ClusterRole it really gets (config/rbac/role.yaml) — can change only Secrets and ConfigMaps
// labelled as managed by it. The policy is applied as shipped, with the ServiceAccount's name swapped
// for this test's one, so the test cannot collide with an installed operator.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { serviceAccountKubeconfig } from '../../e2e/packaging/helpers.ts';
import { deleteNamespace, kubectl, testKubeconfigPath, uniqueName, uniqueNamespace } from '../../env/kube.ts';

const SHIPPED_SA = 'system:serviceaccount:stack-operator:stack-operator-controller-manager';
let ns: string;
let suffix: string;
let sa: { path: string; cleanup(): void };

const asOperator = (args: string[], input?: string) => kubectl(['-n', ns, ...args], { kubeconfig: sa.path, ...(input ? { input } : {}) });

type Obj = { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } & Record<string, unknown> } & Record<string, unknown>;

/** An update (PUT) as the operator does it: read, change, replace at the read resourceVersion. */
async function replaceAs(kind: string, name: string, change: (o: Obj) => Obj) {
  const got = await kubectl(['-n', ns, 'get', kind, name, '-o', 'json']);
  return asOperator(['replace', '-f', '-'], JSON.stringify(change(JSON.parse(got.stdout) as Obj)));
}
const withLabels = (labels: Record<string, string>) => (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, labels } });

beforeAll(async () => {
  ns = await uniqueNamespace('least');
  suffix = uniqueName('lp');
  const policy = readFileSync(join(repoRoot, 'config/admission/operator-managed-objects.yaml'), 'utf8');
  expect(policy).toContain(SHIPPED_SA);
  const docs = parseAllDocuments(policy.replaceAll(SHIPPED_SA, `system:serviceaccount:${ns}:operator`)).map((d) => d.toJS() as { metadata: { name: string }; spec: { policyName?: string } });
  for (const d of docs) {
    d.metadata.name = `${d.metadata.name}-${suffix}`;
    if (d.spec.policyName) d.spec.policyName = `${d.spec.policyName}-${suffix}`;
  }
  const role = parse(readFileSync(join(repoRoot, 'config/rbac/role.yaml'), 'utf8')) as { metadata: { name: string } };
  role.metadata.name = `role-${suffix}`;
  const objects = [
    ...docs,
    role,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'operator', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `binding-${suffix}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `role-${suffix}` },
      subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users-secret', namespace: ns }, stringData: { password: 'p' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'users-cm', namespace: ns }, data: { a: '1' } },
  ];
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  expect(r.code, r.stderr).toBe(0);
  const kc = parse(readFileSync(testKubeconfigPath(), 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = kc.clusters[0]?.cluster;
  const caFile = join(mkdtempSync(join(tmpdir(), 'so-ca-')), 'ca.crt');
  writeFileSync(caFile, Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64'));
  sa = await serviceAccountKubeconfig(testKubeconfigPath(), cluster?.server ?? '', caFile, ns, 'operator');
  // The policy takes effect asynchronously (the API server loads it): wait until it denies.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const probe = await replaceAs('secret', 'users-secret', (o) => ({ ...o, metadata: { ...o.metadata, labels: { probe: '1' } } }));
    if (probe.code !== 0 && probe.stderr.includes('managed-by')) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('the policy never took effect');
}, 120_000);

afterAll(async () => {
  sa?.cleanup();
  await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', `stackoperator.dev-operator-managed-objects-${suffix}`, '--ignore-not-found']);
  await kubectl(['delete', 'clusterrolebinding', `binding-${suffix}`, '--ignore-not-found']);
  await kubectl(['delete', 'clusterrole', `role-${suffix}`, '--ignore-not-found']);
  if (ns) await deleteNamespace(ns);
});

const managed = (kind: 'Secret' | 'ConfigMap', name: string, labels: Record<string, string> = { 'app.kubernetes.io/managed-by': 'stack-operator' }) =>
  JSON.stringify({ apiVersion: 'v1', kind, metadata: { name, namespace: ns, labels }, ...(kind === 'Secret' ? { stringData: { k: 'v' } } : { data: { k: 'v' } }) });

describe("the operator's ServiceAccount, by its own token", () => {
  it("cannot change or relabel a user's Secret or ConfigMap although RBAC allows updates", async () => {
    for (const [kind, name] of [['secret', 'users-secret'], ['configmap', 'users-cm']] as const) {
      const take = await replaceAs(kind, name, withLabels({ 'app.kubernetes.io/managed-by': 'stack-operator' }));
      expect(take.code).not.toBe(0);
      expect(take.stderr).toContain('may only change Secrets and ConfigMaps labelled');
      const get = await kubectl(['-n', ns, 'get', kind, name, '-o', 'jsonpath={.metadata.labels}']);
      expect(get.stdout).not.toContain('stack-operator');
    }
    // Deleting is not even granted by RBAC (outputs go with their Stack through the garbage collector).
    expect((await asOperator(['delete', 'secret', 'users-secret'])).code).not.toBe(0);
    expect((await kubectl(['-n', ns, 'get', 'secret', 'users-secret'])).code).toBe(0);
  });

  it('cannot create an unlabelled Secret, but creates and updates its own labelled ones, and cannot unlabel them', async () => {
    const bare = await asOperator(['create', '-f', '-'], managed('Secret', 'bare', {}));
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('managed-by');
    for (const kind of ['Secret', 'ConfigMap'] as const) {
      const name = `outputs-${kind.toLowerCase()}`;
      const c = await asOperator(['create', '-f', '-'], managed(kind, name));
      expect(c.code, c.stderr).toBe(0);
      const u = await replaceAs(kind.toLowerCase(), name, (o) => ({ ...o, metadata: { ...o.metadata, annotations: { 'stackoperator.dev/outputs-hash': 'x' } } }));
      expect(u.code, u.stderr).toBe(0);
      const strip = await replaceAs(kind.toLowerCase(), name, withLabels({}));
      expect(strip.code, 'the label cannot be taken off').not.toBe(0);
    }
  });
});
