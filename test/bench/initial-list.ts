// `node test/bench/initial-list.ts [N] [rounds] [page sizes, e.g. 250,500,1000]`: how long an
// informer's initial state of N realistic Stacks takes to arrive and be parsed and transformed, by the
// two ways the API server offers it: a LIST in pages (limit / continue; 500 unless sizes are given,
// each size once per round) and a watch-list stream (watch with sendInitialEvents=true, ended by the
// "k8s.io/initial-events-end" bookmark). Starts its own kube-apiserver + etcd; the Stacks
// carry kubectl's last-applied annotation and managedFields, as in `npm run bench` phase 3.
import { STACKS } from '../../src/api/v1alpha1/resources.ts';
import { startControlPlane } from '../../src/devenv/control-plane.ts';
import { installCrds } from '../../src/devenv/crds.ts';
import { KubeClient, resourcePath } from '../../src/runtime/kube-client.ts';
import { stackCacheView } from '../../src/stacks/operator.ts';
import { testKubeConfig } from '../env/kube.ts';
import { createLikeKubectlApply, realisticTemplate } from './lib.ts';

const n = Number(process.argv[2] ?? 11_000);
const rounds = Number(process.argv[3] ?? 3);
const pageSizes = (process.argv[4] ?? '500').split(',').map(Number);
const cp = await startControlPlane();
try {
  await installCrds(cp.kubeconfigPath);
  const client = new KubeClient(testKubeConfig(cp.kubeconfigPath));
  const ns = 'initial-list';
  await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  const template = realisticTemplate();
  const t0 = performance.now();
  await createLikeKubectlApply(client, ns, n, template);
  console.log(JSON.stringify({ created: n, ms: Math.round(performance.now() - t0) }));
  const results: Record<string, number[]> = { watchList: [] };
  const listOnce = async (limit: number): Promise<number> => {
    const t = performance.now();
    let count = 0;
    let cont: string | undefined;
    do {
      const page = await client.request<{ items: unknown[]; metadata: { continue?: string } }>({ method: 'GET', path: resourcePath(STACKS), query: { limit, continue: cont }, timeoutMs: 60_000 });
      for (const it of page.items) if (stackCacheView(it as never)) count++;
      cont = page.metadata.continue || undefined;
    } while (cont);
    if (count !== n) throw new Error(`list saw ${count}`);
    return Math.round(performance.now() - t);
  };
  for (let r = 0; r < rounds; r++) {
    // Each size once per round, the order turned every round so no size always follows the same one.
    const order = r % 2 === 0 ? pageSizes : [...pageSizes].reverse();
    for (const size of order) (results[`list${size}`] ??= []).push(await listOnce(size));
    const t = performance.now();
    let count = 0;
    const ctrl = new AbortController();
    const lines = await client.stream({
      path: resourcePath(STACKS),
      query: { watch: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 120 },
      signal: ctrl.signal,
    });
    for await (const line of lines) {
      const ev = JSON.parse(line) as { type: string; object: { metadata: { annotations?: Record<string, string> } } };
      if (ev.type === 'ADDED' && stackCacheView(ev.object)) count++;
      if (ev.type === 'BOOKMARK' && ev.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true') break;
    }
    ctrl.abort();
    results['watchList']?.push(Math.round(performance.now() - t));
    if (count !== n) throw new Error(`watch-list saw ${count}`);
    console.log(JSON.stringify({ round: r, ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.at(-1)])) }));
  }
  console.log(JSON.stringify({ n, results }));
} finally {
  await cp.stop();
}
