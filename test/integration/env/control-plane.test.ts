// Proves the test harness itself: the shared control plane from the global setup, kubectl, and a
// dedicated control plane's restart and etcd-compaction hooks.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, VersionApi, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../../src/devenv/control-plane.ts';
import { deleteNamespace, kubectl, testKubeConfig, uniqueNamespace } from '../../env/kube.ts';
import { K8S_VERSION } from '../../../src/devenv/paths.ts';

interface WatchOutcome {
  /** HTTP status of a refused watch, or the code of an ERROR event (410 = Gone / Expired). */
  errorCode?: number;
  events: { type: string; name?: string; resourceVersion?: string }[];
}

/** Watches `path` from `resourceVersion` for at most `ms` and reports what came back. */
async function watchFrom(kc: KubeConfig, path: string, resourceVersion: string, ms = 3_000): Promise<WatchOutcome> {
  const out: WatchOutcome = { events: [] };
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const ctl = await new Watch(kc).watch(
    path,
    { resourceVersion },
    (type, obj: { code?: number; metadata?: { name?: string; resourceVersion?: string } }) => {
      if (type === 'ERROR') {
        out.errorCode = obj.code;
        finish();
        return;
      }
      out.events.push({ type, name: obj.metadata?.name, resourceVersion: obj.metadata?.resourceVersion });
    },
    (err: { statusCode?: number } | null) => {
      if (err?.statusCode) out.errorCode = err.statusCode;
      finish();
    },
  );
  await Promise.race([finished, sleep(ms)]);
  ctl.abort();
  return out;
}

async function waitUntil<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe('shared control plane (global setup)', () => {
  it('serves /version with the pinned Kubernetes version', async () => {
    const kc = testKubeConfig();
    expect(kc.getCurrentCluster()?.server).toBe(inject('kubeServer'));
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe(K8S_VERSION);
    expect(inject('kubeToken')).toMatch(/^[0-9a-f]{48}$/);
    expect(process.env.KUBECONFIG_STACK_OPERATOR_TEST).toBe(inject('kubeconfig'));
  });

  it('runs the real kubectl against it (version, apply, get)', async () => {
    const version = await kubectl(['version', '-o', 'json']);
    expect(version.code, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(parsed.clientVersion.gitVersion).toBe(K8S_VERSION);
    expect(parsed.serverVersion.gitVersion).toBe(K8S_VERSION);

    const ns = await uniqueNamespace('env-kubectl');
    try {
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: ${ns}\ndata:\n  greeting: hi\n`;
      const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('configmap/hello created');
      const got = await kubectl(['get', 'configmap', 'hello', '-n', ns, '-o', 'jsonpath={.data.greeting}']);
      expect(got).toMatchObject({ code: 0, stdout: 'hi' });
      const missing = await kubectl(['get', 'configmap', 'nope', '-n', ns]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('NotFound');
    } finally {
      await deleteNamespace(ns);
    }
  });

  it('finalizes a namespace deletion (kube-controller-manager runs the namespace controller)', async () => {
    const kc = testKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await uniqueNamespace('env-nsdel');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'content' }, data: { a: '1' } } });
    // The serviceaccount controller gives every namespace its "default" ServiceAccount.
    await waitUntil('ServiceAccount default', 30_000, async () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(
        () => true,
        () => undefined,
      ),
    );
    // TokenRequest works (signed with the generated service-account key): a JWT.
    const token = await kubectl(['create', 'token', 'default', '-n', ns]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim().split('.')).toHaveLength(3);

    await deleteNamespace(ns, kc);
    const gone = await waitUntil('namespace to disappear', 60_000, async () => {
      try {
        const n = await core.readNamespace({ name: ns });
        expect(n.status?.phase).toBe('Terminating');
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
    expect(gone).toBe(true);
  });
});

describe('dedicated control plane: apiserver restart and etcd compaction', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    cp = await startControlPlane();
    kc = testKubeConfig(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('is a separate apiserver with its own etcd and kubeconfig', () => {
    expect(cp.server).not.toBe(inject('kubeServer'));
    expect(cp.etcdUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cp.timings.totalMs).toBeGreaterThan(0);
  });

  it('keeps its data across stopApiServer / startApiServer (same etcd, same port, same certs)', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'survivor' }, data: { k: 'v' } },
    });

    await cp.stopApiServer();
    await expect(core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' })).rejects.toThrow();
    await cp.startApiServer();

    const read = await core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.data).toEqual({ k: 'v' });

    await cp.restartApiServer();
    const again = await kubectl(['get', 'configmap', 'survivor', '-n', 'default', '-o', 'jsonpath={.metadata.uid}'], {
      kubeconfig: cp.kubeconfigPath,
    });
    expect(again).toMatchObject({ code: 0, stdout: created.metadata?.uid });
  });

  it('compactEtcd + restart: a watch from a compacted resourceVersion gets 410 Gone', async () => {
    const first = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'churn' }, data: { n: '0' } },
    });
    const oldRv = first.metadata!.resourceVersion!;
    for (let i = 1; i <= 3; i++) {
      await core.replaceNamespacedConfigMap({
        name: 'churn',
        namespace: 'default',
        body: { metadata: { name: 'churn' }, data: { n: String(i) } },
      });
    }
    const path = '/api/v1/namespaces/default/configmaps';

    // Before compaction the old resourceVersion is still watchable: the updates replay.
    const before = await watchFrom(kc, path, oldRv, 1_500);
    expect(before.errorCode).toBeUndefined();
    expect(before.events.filter((e) => e.name === 'churn' && e.type === 'MODIFIED')).toHaveLength(3);

    const rev = await cp.compactEtcd();
    expect(rev).toBeGreaterThan(Number(oldRv));

    // The watch cache would still serve the old window from memory; after a restart it starts at the
    // current revision and the watch from oldRv is refused with 410 (what informers must relist on).
    await cp.restartApiServer();
    const after = await watchFrom(kc, path, oldRv);
    expect(after.errorCode).toBe(410);

    // A fresh list works and gives a current resourceVersion to watch from.
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const fresh = await watchFrom(kc, path, list.metadata!.resourceVersion!, 500);
    expect(fresh.errorCode).toBeUndefined();
  });
});

describe('dedicated control plane without watch cache: compaction alone gives 410', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane({ apiserverArgs: ['--watch-cache=false'] });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('a watch from a resourceVersion older than the compaction gets 410 Gone', async () => {
    const kc = testKubeConfig(cp.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const first = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a' } } });
    // Two more writes: a watch from rv starts at rv+1, and etcd only refuses start revisions strictly
    // below the compacted one.
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' } } });
    const path = '/api/v1/namespaces/default/configmaps';
    const oldRv = first.metadata!.resourceVersion!;

    const before = await watchFrom(kc, path, oldRv, 1_500);
    expect(before.errorCode).toBeUndefined();
    expect(before.events.map((e) => e.name)).toContain('b');

    expect(await cp.compactEtcd()).toBeGreaterThan(Number(oldRv) + 1);
    const after = await watchFrom(kc, path, oldRv);
    expect(after.errorCode).toBe(410);
  });
});
