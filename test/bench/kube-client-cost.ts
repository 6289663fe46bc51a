// `node --max-semi-space-size=8 test/bench/kube-client-cost.ts [stacks] [requests] [rounds]`: what one
// Kubernetes request costs the operator's own process (CPU time of this process, not the API
// server's), by kind: a GET of a realistic Stack, a status merge patch like the operator's, a LIST
// page of 500, and one watch event received and parsed. Starts its own kube-apiserver + etcd and
// creates realistic Stacks as `npm run bench` phase 3 does. The client is `src/runtime/kube-client.ts`
// as it is at the checkout this runs from: run it on two checkouts to compare two clients.
import { STACKS } from '../../src/api/v1alpha1/resources.ts';
import { startControlPlane } from '../../src/devenv/control-plane.ts';
import { installCrds } from '../../src/devenv/crds.ts';
import { inClusterConnection } from '../../src/runtime/in-cluster.ts';
import { KubeClient, MERGE_PATCH, resourcePath } from '../../src/runtime/kube-client.ts';
import { testKubeConfig } from '../env/kube.ts';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLikeKubectlApply, pool, realisticTemplate } from './lib.ts';

const n = Number(process.argv[2] ?? 500);
const requests = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 3);
const ns = 'client-cost';

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const cp = await startControlPlane();
try {
  await installCrds(cp.kubeconfigPath);
  // Connected as the operator is in a pod and in the bench: in-cluster (a token and the CA), not through
  // client-node's kubeconfig, whose authentication builds a new dispatcher per request.
  const sa = mkdtempSync(join(tmpdir(), 'client-cost-'));
  writeFileSync(join(sa, 'token'), cp.token);
  copyFileSync(cp.caFile, join(sa, 'ca.crt'));
  const server = new URL(cp.server);
  const client = new KubeClient(inClusterConnection({ KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port }, sa));
  await new KubeClient(testKubeConfig(cp.kubeconfigPath)).request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  await createLikeKubectlApply(client, ns, n, realisticTemplate());
  const name = (k: number): string => `s-${String(k % n).padStart(5, '0')}`;
  let gen = 0;
  const writes = async (events: number, watching: boolean): Promise<void> => {
    const list = await client.list(STACKS, ns, { limit: 1 });
    const ctrl = new AbortController();
    let reading: Promise<void> = Promise.resolve();
    if (watching) {
      const lines = await client.stream({ path: resourcePath(STACKS, ns), query: { watch: true, resourceVersion: list.metadata.resourceVersion }, signal: ctrl.signal });
      reading = (async () => {
        let seen = 0;
        for await (const line of lines) {
          JSON.parse(line);
          if (++seen >= events) break;
        }
      })();
    }
    gen++;
    for (let k = 0; k < events; k++) {
      await client.patch(STACKS, ns, name(k), { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: `watch ${gen}-${k}`, observedGeneration: 1, lastTransitionTime: '2026-11-29T00:00:00Z' }] } }, { contentType: MERGE_PATCH, subresource: 'status' });
    }
    await reading;
    ctrl.abort();
  };
  const timed = async (run: () => Promise<number>): Promise<{ count: number; us: number }> => {
    const c0 = cpuUs();
    const count = await run();
    return { count, us: cpuUs() - c0 };
  };
  const kinds: Record<string, () => Promise<{ count: number; us: number }>> = {
    get: () => timed(async () => {
      await pool(Array.from({ length: requests }, (_, k) => k), 8, async (k) => {
        await client.get(STACKS, ns, name(k));
      });
      return requests;
    }),
    patch: () => timed(async () => {
      gen++;
      await pool(Array.from({ length: requests }, (_, k) => k), 8, async (k) => {
        const body = { status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: `w ${gen}-${k}`, observedGeneration: 1, lastTransitionTime: '2026-11-29T00:00:00Z' }] } };
        await client.patch(STACKS, ns, name(k), body, { contentType: MERGE_PATCH, subresource: 'status' });
      });
      return requests;
    }),
    list: () => timed(async () => {
      const pages = Math.max(1, Math.round(requests / 100));
      for (let p = 0; p < pages; p++) await client.list(STACKS, ns, { limit: 500 });
      return pages;
    }),
    // One event received on an open watch and parsed: the same sequential patches are sent with the
    // watch open and without it, in this process; the difference per event is the watch side's cost.
    watch: async () => {
      const events = Math.min(requests, 1000);
      const c0 = cpuUs();
      await writes(events, false);
      const alone = cpuUs() - c0;
      const c1 = cpuUs();
      await writes(events, true);
      return { count: events, us: cpuUs() - c1 - alone };
    },
  };
  const results: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [kind, run] of Object.entries(kinds)) {
      const { count, us: total } = await run();
      const us = total / count;
      (results[kind] ??= []).push(Math.round(us));
      console.log(JSON.stringify({ round: r, kind, usPerRequest: Math.round(us), count }));
    }
  }
  console.log(JSON.stringify({ n, requests, cpuUsPerRequest: results }));
} finally {
  await cp.stop();
}
