// `node test/bench/list-rss.ts [N] [modes]`: the process RSS an informer's first LIST of N realistic
// Stacks (pages of 500, each item kept through the Stack cache's transform) leaves behind, by the way
// a page's body is read: `fetch` (undici's fetch, which asks for gzip and inflates as a stream),
// `gunzip` (request(), gzip, the whole page inflated at once), `stream` (request(), gzip, inflated as
// a stream) and `identity` (request(), no compression). Each mode runs in a fresh child process, so one
// mode's freed memory is not another's. Starts its own kube-apiserver + etcd.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { Agent, fetch, request } from 'undici';
import { startControlPlane } from '../../src/devenv/control-plane.ts';
import { installCrds } from '../../src/devenv/crds.ts';
import { STACKS } from '../../src/api/v1alpha1/resources.ts';
import { KubeClient, resourcePath } from '../../src/runtime/kube-client.ts';
import { stackCacheView } from '../../src/stacks/operator.ts';
import { testKubeConfig } from '../env/kube.ts';
import { createLikeKubectlApply, realisticTemplate } from './lib.ts';

const NS = 'list-rss';

async function child(mode: string, server: string, token: string, caFile: string): Promise<void> {
  const d = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  const kept: unknown[] = [];
  let cont: string | undefined;
  do {
    const url = `${server}${resourcePath(STACKS, NS)}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    let body: string;
    if (mode === 'fetch') {
      body = await (await fetch(url, { headers, dispatcher: d })).text();
    } else {
      const res = await request(url, { headers: mode === 'identity' ? headers : { ...headers, 'accept-encoding': 'gzip' }, dispatcher: d });
      const gz = res.headers['content-encoding'] === 'gzip';
      if (!gz) body = await res.body.text();
      else if (mode === 'gunzip') body = (await promisify(gunzip)(Buffer.from(await res.body.arrayBuffer()))).toString('utf8');
      else body = await text(res.body.pipe(createGunzip()));
    }
    const page = JSON.parse(body) as { items: unknown[]; metadata: { continue?: string } };
    for (const it of page.items) kept.push(stackCacheView(it as never));
    cont = page.metadata.continue || undefined;
  } while (cont);
  await new Promise((r) => setTimeout(r, 500));
  const m = process.memoryUsage();
  console.log(JSON.stringify({ mode, items: kept.length, rssMiB: +(m.rss / 2 ** 20).toFixed(1), heapUsedMiB: +(m.heapUsed / 2 ** 20).toFixed(1), externalMiB: +(m.external / 2 ** 20).toFixed(1) }));
  await d.close();
}

if (process.argv[2] === '--child') {
  const [, , , mode, server, token, caFile] = process.argv;
  await child(mode ?? '', server ?? '', token ?? '', caFile ?? '');
} else {
  const n = Number(process.argv[2] ?? 2200);
  const modes = (process.argv[3] ?? 'fetch,gunzip,stream,identity').split(',');
  const cp = await startControlPlane();
  try {
    await installCrds(cp.kubeconfigPath);
    const client = new KubeClient(testKubeConfig(cp.kubeconfigPath));
    await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
    await createLikeKubectlApply(client, NS, n, realisticTemplate());
    for (let round = 0; round < 2; round++) {
      for (const mode of modes) {
        const r = spawnSync(process.execPath, ['--max-semi-space-size=8', '--max-old-space-size=320', import.meta.filename, '--child', mode, cp.server, cp.token, cp.caFile], { encoding: 'utf8' });
        process.stdout.write(r.stdout || r.stderr);
      }
    }
  } finally {
    await cp.stop();
  }
}
