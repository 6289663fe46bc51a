// Starts a real Argo CD (built by test/env/argocd/build.sh) on loopback against the shared test
// kube-apiserver: Redis (Debian's redis-server), argocd-repo-server, argocd-application-controller
// and argocd-server (for resource actions: the API runs Argo CD's own Lua), in a namespace of its own.
// argocd-cm holds exactly the data given (the tests pass what config/argocd produces).
//
//   const argo = await startArgoCd({ kubeconfig, cm });
//   ... argo.namespace, argo.api(path, init) ...
//   await argo.stop();
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { runKubectl } from '../../../src/devenv/kubectl.ts';

const execFileP = promisify(execFile);
const BUILD = path.join(import.meta.dirname, 'build.sh');

export interface ArgoCd {
  namespace: string;
  /** http://127.0.0.1:PORT of argocd-server (auth disabled, plain HTTP). */
  serverUrl: string;
  /** Milliseconds: build (0 when cached), each component's start, total start. */
  timings: Record<string, number>;
  /** A JSON call to argocd-server's REST API (/api/v1/...). Throws on a non-2xx answer. */
  api<T>(p: string, init?: { method?: string; body?: unknown }): Promise<T>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface StartArgoCdOptions {
  kubeconfig: string;
  /** argocd-cm data. */
  cm: Record<string, string>;
  log?: (msg: string) => void;
}

/** Runs build.sh (cached after the first time) and returns the directory of the binaries. */
export async function buildArgoCd(): Promise<{ bin: string; ms: number }> {
  const t0 = Date.now();
  const { stdout } = await execFileP('bash', [BUILD], { maxBuffer: 16 << 20, timeout: 2_700_000 });
  return { bin: stdout.trim().split('\n').pop() ?? '', ms: Date.now() - t0 };
}

async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const r = await runKubectl(kubeconfig, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function waitHttp(url: string, what: string, proc: () => ChildProcess | undefined, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = proc();
    if (p && p.exitCode !== null) throw new Error(`${what} exited with ${p.exitCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready at ${url} within ${timeoutMs} ms`);
}

/** `kubectl wait --for=condition=Established` fails on a CRD whose status has no conditions yet. */
async function established(kubeconfig: string, crd: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const r = await runKubectl(kubeconfig, ['get', 'crd', crd, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    if (r.stdout.trim() === 'True') return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`CRD ${crd} not Established within 60 s`);
}

/** The cluster-wide CRDs, the namespace and the objects Argo CD reads at start. */
async function prepareCluster(kubeconfig: string, ns: string, crdDir: string, cm: Record<string, string>): Promise<void> {
  await kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-test', '-f', crdDir]);
  for (const crd of ['applications.argoproj.io', 'appprojects.argoproj.io']) await established(kubeconfig, crd);
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: ns, labels: { 'app.kubernetes.io/part-of': 'argocd' } }, data: cm },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-rbac-cm', namespace: ns, labels: { 'app.kubernetes.io/part-of': 'argocd' } } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'argocd-secret', namespace: ns, labels: { 'app.kubernetes.io/part-of': 'argocd' } } },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: 'default', namespace: ns },
      spec: {
        sourceRepos: ['*'],
        destinations: [{ server: '*', namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
  ];
  for (const o of objects) await kubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(o));
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
}

// Safety net when the test process dies without its afterAll (killed, crashed): no Argo CD outlives it.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function startProc(dir: string, name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const logFile = path.join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => undefined);
  return { name, child, logFile };
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startArgoCd(opts: StartArgoCdOptions): Promise<ArgoCd> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const built = await buildArgoCd();
  timings.build = built.ms;
  const bin = (n: string) => path.join(built.bin, n);
  const ns = `argocd-${Math.random().toString(36).slice(2, 8)}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'so-argocd-'));
  await mkdir(path.join(dir, 'home'));
  await mkdir(path.join(dir, 'tmp'));
  const procs: Proc[] = [];
  const serverPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await stopProc(p);
    await runKubectl(opts.kubeconfig, ['delete', 'applications.argoproj.io', '--all', '-n', ns, '--wait=false']);
    await runKubectl(opts.kubeconfig, ['patch', 'applications.argoproj.io', '--all', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await runKubectl(opts.kubeconfig, ['delete', 'namespace', ns, '--wait=false']);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let t = Date.now();
    await prepareCluster(opts.kubeconfig, ns, path.join(built.bin, '..', 'crds'), opts.cm);
    timings.cluster = Date.now() - t;

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: path.join(dir, 'home'),
      TMPDIR: path.join(dir, 'tmp'),
      KUBECONFIG: opts.kubeconfig,
      // The Application destination https://kubernetes.default.svc is the cluster of $KUBECONFIG
      // (Argo CD's own switch for running outside a cluster).
      ARGOCD_FAKE_IN_CLUSTER: 'true',
      ARGOCD_GPG_ENABLED: 'false',
    };
    const [redisPort, repoPort, repoMetrics, ctrlMetrics, serverMetrics] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    const redis = `127.0.0.1:${redisPort}`;
    const repo = `127.0.0.1:${repoPort}`;

    t = Date.now();
    procs.push(startProc(dir, 'redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], env));
    procs.push(
      startProc(dir, 'repo-server', bin('argocd-repo-server'), ['--address', '127.0.0.1', '--port', String(repoPort), '--metrics-address', '127.0.0.1', '--metrics-port', String(repoMetrics), '--redis', redis, '--disable-tls', '--loglevel', 'info'], env),
    );
    const common = ['--kubeconfig', opts.kubeconfig, '--namespace', ns, '--redis', redis, '--repo-server', repo, '--repo-server-plaintext', '--loglevel', 'info'];
    procs.push(
      startProc(dir, 'application-controller', bin('argocd-application-controller'), [...common, '--metrics-port', String(ctrlMetrics), '--status-processors', '4', '--operation-processors', '2'], env),
    );
    procs.push(
      startProc(dir, 'server', bin('argocd-server'), [...common, '--insecure', '--disable-auth', '--address', '127.0.0.1', '--port', String(serverPort), '--metrics-address', '127.0.0.1', '--metrics-port', String(serverMetrics), '--staticassets', path.join(dir, 'no-ui')], env),
    );
    const byName = (n: string) => procs.find((p) => p.name === n)?.child;
    await waitHttp(`http://127.0.0.1:${repoMetrics}/metrics`, 'argocd-repo-server', () => byName('repo-server'));
    timings.repoServer = Date.now() - t;
    await waitHttp(`http://127.0.0.1:${ctrlMetrics}/healthz`, 'argocd-application-controller', () => byName('application-controller'));
    timings.controller = Date.now() - t;
    await waitHttp(`http://127.0.0.1:${serverPort}/healthz`, 'argocd-server', () => byName('server'));
    timings.server = Date.now() - t;
    timings.total = Date.now() - t0;
    log(`argocd up in ${timings.total} ms (build ${timings.build}); namespace ${ns}; dir ${dir}`);
  } catch (err) {
    const tails = procs.map((p) => `--- ${p.name}\n${tail(p.logFile, 30)}`).join('\n');
    await stop();
    throw new Error(`${String(err)}\n${tails}`);
  }
  return {
    namespace: ns,
    serverUrl,
    timings,
    api: async <T>(p: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
      const r = await fetch(`${serverUrl}${p}`, {
        method: init.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`argocd-server ${init.method ?? 'GET'} ${p}: ${r.status} ${text}`);
      return (text ? JSON.parse(text) : {}) as T;
    },
    logTail: (lines = 40) => procs.map((p) => `--- ${p.name}\n${tail(p.logFile, lines)}`).join('\n'),
    stop,
  };
}
