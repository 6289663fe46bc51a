// `node test/bench/write-cost.ts [stacks] [writes per variant] [rounds] [variants]`: what one status
// write of a realistic Stack costs the API server, by the way it is sent. Starts its own kube-apiserver
// + etcd, creates realistic Stacks (kubectl's last-applied annotation and managedFields, ~4 KiB
// templates, as `npm run bench` phase 3), then sends status merge patches like the operator's (three
// conditions, an operation record, the resourceVersion precondition) in each variant, the variants
// alternating round by round. Reports per variant the API server's and etcd's CPU per write (their own
// process_cpu_seconds_total) and the write's latency.
import { STACKS } from '../../src/api/v1alpha1/resources.ts';
import { startControlPlane } from '../../src/devenv/control-plane.ts';
import { installCrds } from '../../src/devenv/crds.ts';
import { KubeClient, MERGE_PATCH } from '../../src/runtime/kube-client.ts';
import { testKubeConfig } from '../env/kube.ts';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { apiserverGet, createLikeKubectlApply, httpGetText, parseProm, pool, realisticTemplate, stats, sumOf } from './lib.ts';

// The request variants, and `string`: the same Stacks and writes, but each Stack's template given as
// one YAML string instead of an object (its own namespace of Stacks).
type Variant = { name: string; query: Record<string, string>; precondition: boolean; ns: string };
const VARIANTS: Record<string, Variant> = {
  base: { name: 'base', query: {}, precondition: true, ns: 'write-cost' },
  ignore: { name: 'ignore', query: { fieldValidation: 'Ignore' }, precondition: true, ns: 'write-cost' },
  strict: { name: 'strict', query: { fieldValidation: 'Strict' }, precondition: true, ns: 'write-cost' },
  norv: { name: 'norv', query: {}, precondition: false, ns: 'write-cost' },
  string: { name: 'string', query: {}, precondition: true, ns: 'write-cost-string' },
};

const n = Number(process.argv[2] ?? 500);
const writes = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 3);
const variants = (process.argv[5] ?? 'base,ignore').split(',').map((v) => {
  const found = VARIANTS[v];
  if (!found) throw new Error(`unknown variant ${v}; one of ${Object.keys(VARIANTS).join(', ')}`);
  return found;
});

function statusOf(i: number, gen: number): Record<string, unknown> {
  const at = new Date(Date.UTC(2026, 10, 28, 0, 0, i % 60)).toISOString();
  const cond = (type: string, s: string, reason: string) => ({ type, status: s, reason, message: `stack bench-${i} ${reason} (write ${gen})`, observedGeneration: 1, lastTransitionTime: at });
  return {
    observedGeneration: 1,
    stackId: `0b0e3c0e-${String(i).padStart(4, '0')}-4d7c-9d8e-1b2c3d4e5f60`,
    stackStatus: gen % 2 ? 'UPDATE_IN_PROGRESS' : 'UPDATE_COMPLETE',
    conditions: [cond('Ready', gen % 2 ? 'False' : 'True', gen % 2 ? 'Updating' : 'Succeeded'), cond('Reconciling', gen % 2 ? 'True' : 'False', 'Updating'), cond('Stalled', 'False', 'Progressing')],
    operation: gen % 2 ? { type: 'Update', generation: 1, hash: `h${gen}`, token: `t-${i}-${gen}`, startedAt: at, attempt: 0, observedUpdatedAt: at } : null,
  };
}

const cp = await startControlPlane();
try {
  await installCrds(cp.kubeconfigPath);
  const client = new KubeClient(testKubeConfig(cp.kubeconfigPath));
  const ca = readFileSync(cp.caFile, 'utf8');
  const rv = new Map<string, string>();
  for (const ns of new Set(variants.map((v) => v.ns))) {
    await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    const template = ns === VARIANTS['string']?.ns ? stringify(realisticTemplate()) : realisticTemplate();
    for (const [name, v] of await createLikeKubectlApply(client, ns, n, template)) rv.set(`${ns}/${name}`, v);
  }
  const cpu = async () => ({
    api: sumOf(parseProm(await apiserverGet(cp.server, '/metrics', cp.token, ca)), 'process_cpu_seconds_total'),
    etcd: sumOf(parseProm(await httpGetText(`${cp.etcdUrl}/metrics`)), 'process_cpu_seconds_total'),
  });
  const results: Record<string, { apiMsPerWrite: number[]; etcdMsPerWrite: number[]; p50: number[]; p99: number[] }> = {};
  let gen = 0;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const before = await cpu();
      const lat: number[] = [];
      gen++;
      await pool(Array.from({ length: writes }, (_, k) => k), 8, async (k) => {
        const name = `s-${String(k % n).padStart(5, '0')}`;
        const body: Record<string, unknown> = { status: statusOf(k % n, gen * 10_000 + k) };
        if (v.precondition) body['metadata'] = { resourceVersion: rv.get(`${v.ns}/${name}`) };
        const t = performance.now();
        const out = await client.patch<{ metadata: { resourceVersion: string } }>(STACKS, v.ns, name, body, { contentType: MERGE_PATCH, subresource: 'status', query: v.query });
        lat.push(performance.now() - t);
        rv.set(`${v.ns}/${name}`, out.metadata.resourceVersion);
      });
      const after = await cpu();
      const s = stats(lat.sort((a, b) => a - b));
      const e = (results[v.name] ??= { apiMsPerWrite: [], etcdMsPerWrite: [], p50: [], p99: [] });
      e.apiMsPerWrite.push(+(((after.api - before.api) * 1000) / writes).toFixed(2));
      e.etcdMsPerWrite.push(+(((after.etcd - before.etcd) * 1000) / writes).toFixed(2));
      e.p50.push(+s.p50.toFixed(1));
      e.p99.push(+s.p99.toFixed(1));
      console.log(JSON.stringify({ round: r, variant: v.name, apiMsPerWrite: e.apiMsPerWrite.at(-1), etcdMsPerWrite: e.etcdMsPerWrite.at(-1), p50: e.p50.at(-1), p99: e.p99.at(-1) }));
    }
  }
  console.log(JSON.stringify({ n, writes, results }));
} finally {
  await cp.stop();
}
