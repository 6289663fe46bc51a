// `npm run bench [-- --quick] [-- --profile=tp|mem|steady]`: the performance targets of docs/benchmarks.md,
// measured against a real kube-apiserver + etcd (started here), the provider emulator (in this
// process, with latency, operation duration and a rate limit) and the operator as a CHILD process
// (so its RSS / heap / CPU are its own). Writes test/bench/results/{latest,<mode>}.json and
// docs/benchmarks.md. Every wait is bounded; see docs/benchmarks.md for the method.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { startEmulator } from '../../src/emulator/index.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { APPLY_PATCH, KubeClient, MERGE_PATCH, resourcePath } from '../../src/runtime/kube-client.ts';
import { silentLogger } from '../../src/runtime/logging.ts';
import { FINALIZER } from '../../src/api/v1alpha1/types.ts';
import { SECRETS, STACKS, STACK_PROVIDERS } from '../../src/api/v1alpha1/resources.ts';
import type { StackObject } from '../../src/stacks/context.ts';
import { freePort, startControlPlane } from '../../src/devenv/control-plane.ts';
import { installCrds } from '../../src/devenv/crds.ts';
import { buildScript, kubectlPath, repoRoot } from '../../src/devenv/paths.ts';
import { runProcess } from '../../src/devenv/process.ts';
import { testKubeConfig } from '../env/kube.ts';
import {
  apiserverGet,
  apiserverGetBytes,
  httpGetText,
  pprofTop,
  load,
  parseProm,
  pool,
  procCpuSeconds,
  procMemory,
  retry,
  spawnOperator,
  stats,
  sumOf,
  summariseProfile,
  waitUntil,
  KUBECTL_APPLY_MANAGER,
  KUBECTL_SSA_MANAGER,
  LAST_APPLIED,
  memoryCgroup,
  quantityBytes,
  realisticTemplate,
  stackManifest,
  type MemoryCgroup,
  type OperatorChild,
  type Sample,
} from './lib.ts';
import { summariseHeap } from './heap.ts';
import { writeReport } from './report.ts';
import { startCpuProfile, takeHeapSnapshot } from './snapshot.ts';
import { runRepeated } from './repeat.ts';
import { runSideBySide, spawnTwin } from './twin.ts';
import { ProviderTrace } from './provider-trace.ts';

const { values: argv } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'string', default: '' },
    // 1 = throughput, 2 = latency (needs 1), 3 = memory / cold start, 4 = steady state (needs 3),
    // 5 = restart with every Stack Ready (needs 3 and 4)
    phases: { type: 'string', default: '1,2,3,4,5' },
    out: { type: 'string', default: '' },
    // Node/V8 flags of the operator child instead of the chart's `nodeOptions` ("none": no flags)
    'node-options': { type: 'string', default: '' },
    // memory limit of the operator's cgroup instead of the chart's resources.limits.memory ("none": no cgroup)
    'memory-limit': { type: 'string', default: '' },
    // connect the operator through a kubeconfig file (client-node) instead of in-cluster like a pod
    kubeconfig: { type: 'boolean', default: false },
    // phase 3: seconds to wait for every new Stack to be Ready (default 720; quick 300)
    'ready-wait': { type: 'string', default: '' },
    // run the operator from src/*.ts (Node's type stripping: ~17 MiB more RSS) instead of dist/ as the image does
    source: { type: 'boolean', default: false },
    // after phase 3: a heap snapshot of the operator (through --inspect on a free port), summarised
    'heap-snapshot': { type: 'boolean', default: false },
    // --twin: this bench with our operator, then with the controller-runtime twin (test/bench/twin.ts)
    twin: { type: 'boolean', default: false },
    operator: { type: 'string', default: 'ours' },
    // phase 3: a CPU profile of kube-apiserver over this many seconds once every Stack is queued
    // (its /debug/pprof), summarised with `go tool pprof -top` into the results
    'apiserver-profile': { type: 'string', default: '' },
    // create the Stacks as `kubectl apply --server-side` does (field manager "kubectl", no last-applied
    // annotation) instead of client-side apply: how much the annotation costs each write
    'server-side-apply': { type: 'boolean', default: false },
    // phase 4: the bulk Stacks' resyncInterval in seconds (default 60; quick 30); a long one (3600)
    // leaves the steady window without resyncs: the operator's CPU at rest without work
    'bulk-resync': { type: 'string', default: '' },
    // phase 4: the steady window in seconds (default 120; quick 30)
    'steady-window': { type: 'string', default: '' },
    // N > 1: the whole bench N times (with --twin, ours and the twin alternating), then each figure's
    // minimum / median / maximum (test/bench/repeat.ts)
    repeat: { type: 'string', default: '' },
  },
});
// What the chart ships (charts/stack-operator/values.yaml): the container's memory limit and NODE_OPTIONS.
const chartValues = parseYaml(readFileSync(join(repoRoot, 'charts/stack-operator/values.yaml'), 'utf8')) as { resources?: { limits?: { memory?: string } }; nodeOptions?: string };
const NODE_OPTIONS = argv['node-options'] === 'none' ? '' : argv['node-options'] || (chartValues.nodeOptions ?? '');
const MEMORY_LIMIT = argv['memory-limit'] === 'none' ? '' : argv['memory-limit'] || (chartValues.resources?.limits?.memory ?? '');
const PHASES = new Set(argv.phases.split(',').map(Number));
const QUICK = argv.quick;
const MODE = argv.out || (QUICK ? 'quick' : 'full');
const REPEAT = Number(argv.repeat || 1);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat=${argv.repeat}: give a whole number of runs`);
if (REPEAT > 1) {
  const results = join(repoRoot, 'test/bench/results');
  const worst = await runRepeated(process.argv.slice(2), QUICK ? 'quick' : 'full', REPEAT, argv.twin, results);
  writeReport(results, join(repoRoot, 'docs/benchmarks.md'));
  process.exit(worst);
}
if (argv.twin) process.exit(await runSideBySide(process.argv.slice(2), MODE));

export const CONFIG = {
  mode: MODE,
  tpStacks: QUICK ? 200 : 1000,
  latencySamples: QUICK ? 100 : 300,
  latencyRatePerSec: 4,
  memStacks: QUICK ? 2000 : 10_000,
  steadyWindowS: Number(argv['steady-window'] || (QUICK ? 30 : 120)),
  bulkResyncS: Number(argv['bulk-resync'] || (QUICK ? 30 : 60)),
  defaultResync: '10m',
  providerLatencyMs: 30,
  operationMs: 1500,
  pollInterval: '2s',
  /** Provider (emulator) rate limit of the Heat service during the throughput and latency phases. */
  rateLimitQps: 25,
  rateLimitBurst: 25,
  /** The operator's own client-side limit for that provider (StackProvider spec.rateLimit). */
  clientQps: 25,
  clientBurst: 5,
  /** Phase 3/4 (10,000 Stacks): the provider limit is raised so the phase is bounded by the operator. */
  bulkRateLimitQps: 400,
  workers: 32,
  createConcurrency: 16,
  callsPerStackToReady: 3,
  /** Stacks of every batch created by real `kubectl apply`; the rest are the same server-side objects. */
  kubectlSample: 10,
};
const C = CONFIG;

const resultsDir = join(repoRoot, 'test/bench/results');
mkdirSync(resultsDir, { recursive: true });
const logFile = join(resultsDir, `operator-${MODE}.log`);
writeFileSync(logFile, '');
const t00 = performance.now();
const say = (msg: string): void => {
  process.stderr.write(`[bench ${((performance.now() - t00) / 1000).toFixed(1)}s load ${load()}] ${msg}\n`);
};

spawnSync('bash', [buildScript, 'control-plane'], { stdio: 'inherit' });
// The operator runs compiled, as in the image (Dockerfile: node dist/cli/main.js).
if (!argv.source && spawnSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
const ENTRY = join(repoRoot, argv.source ? 'src/cli/main.ts' : 'dist/cli/main.js');
say(`mode ${MODE}; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
const cp = await startControlPlane(argv['apiserver-profile'] ? { apiserverArgs: ['--profiling=true'] } : {});
const ca = readFileSync(cp.caFile, 'utf8');
say(`control plane up in ${cp.timings.totalMs} ms`);

const results: Record<string, unknown> = {
  mode: MODE,
  startedAt: new Date().toISOString(),
  machine: { cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  config: { ...C, operator: argv.operator, operatorNodeOptions: NODE_OPTIONS, memoryLimit: MEMORY_LIMIT || 'none', operatorConnection: argv.kubeconfig ? 'kubeconfig (client-node)' : 'in-cluster', operatorEntry: argv.source ? 'src/cli/main.ts' : 'dist/cli/main.js', phases: argv.phases },
};
let operator: OperatorChild | undefined;
// The operator connects as in a pod (no kubeconfig): the admin token and the CA as a service account.
const serviceAccountDir = join(resultsDir, 'tmp', `sa-${process.pid}`);
mkdirSync(serviceAccountDir, { recursive: true });
writeFileSync(join(serviceAccountDir, 'token'), cp.token);
writeFileSync(join(serviceAccountDir, 'ca.crt'), ca);
// Every operator child runs in a memory cgroup as large as the chart's limit (as in its container).
const cgroup: MemoryCgroup | undefined = MEMORY_LIMIT ? memoryCgroup(`stack-operator-bench-${process.pid}`, quantityBytes(MEMORY_LIMIT)) : undefined;
results['cgroup'] = cgroup ? { version: cgroup.version, limit: MEMORY_LIMIT, dir: cgroup.dir } : { none: MEMORY_LIMIT ? 'not writable here' : 'disabled' };
const informer = new Informer<StackObject>(new KubeClient(testKubeConfig(cp.kubeconfigPath)), { resource: STACKS, log: silentLogger, name: 'bench-stacks' });

const READ_VERBS = new Set(['GET', 'LIST', 'WATCH', 'CONNECT']);
/** Mean server-side time (ms) of the non-read requests between two scrapes, by "VERB resource[/subresource]". */
function writeMeanMs(before: Sample[], after: Sample[]): Record<string, number> {
  const sum = writesDelta(before, after, 'apiserver_request_duration_seconds_sum');
  const count = writesDelta(before, after, 'apiserver_request_duration_seconds_count');
  return Object.fromEntries(Object.entries(count).map(([k, n]) => [k, Math.round(((sum[k] ?? 0) / n) * 1e4) / 10]));
}

/** Growth of a per-request counter (default apiserver_request_total) between two scrapes, non-read verbs, by "VERB resource[/subresource]". */
function writesDelta(before: Sample[], after: Sample[], metric = 'apiserver_request_total'): Record<string, number> {
  const writes = (s: Sample[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of s) {
      if (x.name !== metric || READ_VERBS.has(x.labels['verb'] ?? '')) continue;
      const k = `${x.labels['verb']} ${x.labels['resource']}${x.labels['subresource'] ? `/${x.labels['subresource']}` : ''}`;
      m.set(k, (m.get(k) ?? 0) + x.value);
    }
    return m;
  };
  const b = writes(before);
  const out: Record<string, number> = {};
  for (const [k, v] of writes(after)) if (v - (b.get(k) ?? 0) > 0) out[k] = v - (b.get(k) ?? 0);
  return out;
}

async function main(): Promise<void> {
  await installCrds(cp.kubeconfigPath);
  const client = new KubeClient(testKubeConfig(cp.kubeconfigPath));

  // ---- the emulator, with an arrival hook: the front-end logs every request at debug on arrival,
  // before the injected latency and the rate limit, so this is when the operator's call reached it.
  const arrivals = new Map<string, number>();
  /** Last provider read of every bulk Stack (phase 5: a restart re-reads each). */
  const bulkReads = new Map<string, number>();
  const accepted = new Map<string, number>();
  /** Phase 2: the first provider read of a Stack after its spec PATCH was sent, and when the bench saw its operation record. */
  const latencyGets = new Map<string, number>();
  const recordSeen = new Map<string, number>();
  /** Phase 2: when the bench's own watch showed the spec change (what any watcher of the API server sees). */
  const specSeen = new Map<string, number>();
  const latencyExpect = new Map<string, string>();
  const latencyWatch = new Set<string>();
  /** Phase 3's provider calls per bulk Stack, to say where its GETs go (test/bench/provider-trace.ts). */
  const bulkTrace = new ProviderTrace('bulk-');
  const hook = {
    debug(o: { service?: string; op?: string; path?: string }) {
      if (o.service === 'heat' && o.path?.includes('/stacks/bulk-')) {
        const name = o.path.split('/stacks/')[1]?.split('/')[0] ?? '';
        if (o.op === 'get') bulkReads.set(name, performance.now());
        bulkTrace.note(name, o.op === 'get' ? 'get' : o.op ?? 'other', performance.now());
      }
      if (o.service === 'heat' && o.op === 'get' && o.path && latencyWatch.size > 0) {
        const name = decodeURIComponent(o.path.split('/stacks/')[1]?.split('/')[0] ?? '');
        if (latencyWatch.has(name) && !latencyGets.has(name)) latencyGets.set(name, performance.now());
      }
      if (o.service !== 'heat' || o.op !== 'update' || !o.path) return;
      const name = decodeURIComponent(o.path.split('/stacks/')[1]?.split('/')[0] ?? '');
      if (!arrivals.has(name)) arrivals.set(name, performance.now());
    },
    info() {},
    warn() {},
    error(o: unknown, m: string) {
      process.stderr.write(`emulator error: ${m} ${JSON.stringify(o)}\n`);
    },
  };
  const emu = await startEmulator({
    latencyMs: C.providerLatencyMs,
    operationSpeed: 1,
    baseOperationMs: C.operationMs,
    rateLimit: { requestsPerSecond: C.rateLimitQps, burst: C.rateLimitBurst },
    logger: hook as unknown as Logger,
  });
  emu.engine.onEvent((stack, ev) => {
    if (ev.stack) bulkTrace.note(stack.name, `${ev.action}_${ev.status}`, performance.now());
    if (ev.stack && ev.action === 'UPDATE' && ev.status === 'IN_PROGRESS' && !accepted.has(stack.name)) accepted.set(stack.name, performance.now());
  });

  // ---- the bench's own view of the Stacks (a watch, not polling)
  const ready = new Set<string>();
  const finalized = new Set<string>();
  const firstReady = new Map<string, number>();
  const track = (s: StackObject): void => {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const ok = s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && s.status?.observedGeneration === s.metadata.generation;
    if (ok) {
      ready.add(key);
      if (!firstReady.has(key)) firstReady.set(key, performance.now());
    } else ready.delete(key);
    if (s.metadata.finalizers?.includes(FINALIZER)) finalized.add(key);
    const n = s.metadata.name ?? '';
    if (latencyWatch.has(n) && s.status?.operation?.type === 'Update' && !recordSeen.has(n)) recordSeen.set(n, performance.now());
    if (latencyWatch.has(n) && !specSeen.has(n) && s.spec.parameters?.['message'] === latencyExpect.get(n)) specSeen.set(n, performance.now());
  };
  informer.onAdd(track);
  informer.onUpdate((_o, n) => track(n));
  informer.start();
  await informer.waitForSync({ timeoutMs: 60_000 });
  const countIn = (set: Set<string> | Map<string, number>, ns: string): number => {
    let n = 0;
    for (const k of set.keys()) if (k.startsWith(`${ns}/`)) n++;
    return n;
  };

  const namespace = async (ns: string): Promise<void> => {
    await client.create({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' }, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  };
  const providerIn = async (ns: string, name: string, rate: { qps: number; burst: number }, resync?: string): Promise<void> => {
    const c = emu.credentials.keystone;
    await client.create(SECRETS, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'heat-creds' }, stringData: { username: c.username, password: c.password } });
    await client.create(STACK_PROVIDERS, ns, {
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'StackProvider',
      metadata: { name },
      spec: {
        heat: { authUrl: emu.endpoints.keystone, region: c.region, projectName: c.projectName, credentialsSecretRef: { name: 'heat-creds' } },
        allowPlainHTTP: true,
        rateLimit: rate,
        pollInterval: C.pollInterval,
        ...(resync ? { resyncInterval: resync } : {}),
      },
    });
  };
  // Stacks created the way users create them: the first few of every batch with real `kubectl apply`
  // (last-applied annotation, managedFields of kubectl-client-side-apply), the rest as the same
  // server-side objects (the sample's annotation with the name swapped, POSTed with kubectl's field
  // manager), so the operator's cache holds what it holds in a real cluster. ~4.4 KiB template.
  const template = realisticTemplate();
  const realism: Record<string, unknown>[] = [];
  results['realism'] = realism;
  const createStacks = async (ns: string, provider: string, n: number, prefix: string): Promise<{ ms: number; perSec: number }> => {
    const t = performance.now();
    const name = (i: number): string => `${prefix}-${String(i).padStart(5, '0')}`;
    const sampleN = Math.min(n, C.kubectlSample);
    const manifests = Array.from({ length: sampleN }, (_, i) => JSON.stringify(stackManifest(name(i), ns, provider, template))).join('\n');
    const ssa = argv['server-side-apply'];
    const manager = ssa ? KUBECTL_SSA_MANAGER : KUBECTL_APPLY_MANAGER;
    const applied = await runProcess(kubectlPath(), ['--kubeconfig', cp.kubeconfigPath, 'apply', ...(ssa ? ['--server-side'] : []), '-f', '-'], { input: manifests, timeoutMs: 120_000 });
    if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
    const sample = await client.get<StackObject>(STACKS, ns, name(0));
    const sampleAnnotation = sample.metadata.annotations?.[LAST_APPLIED] ?? '';
    if (!sampleAnnotation && !ssa) throw new Error('kubectl apply left no last-applied annotation');
    const annotationOf = (i: number): string => sampleAnnotation.replace(`"name":"${name(0)}"`, `"name":"${name(i)}"`);
    await pool(
      Array.from({ length: n - sampleN }, (_, i) => i + sampleN),
      C.createConcurrency,
      async (i) => {
        const m = stackManifest(name(i), ns, provider, template) as { metadata: Record<string, unknown> };
        if (ssa) {
          // What `kubectl apply --server-side` sends: an apply patch (JSON is YAML) under its manager.
          await retry(() => client.request({ method: 'PATCH', path: resourcePath(STACKS, ns, name(i)), query: { fieldManager: manager }, contentType: APPLY_PATCH, body: m }));
          return;
        }
        m.metadata['annotations'] = { [LAST_APPLIED]: annotationOf(i) };
        await retry(() => client.request({ method: 'POST', path: resourcePath(STACKS, ns), query: { fieldManager: manager }, body: m }));
      },
    );
    const ms = performance.now() - t;
    // The bulk objects must look like the kubectl-applied ones (same annotation shape, same managers).
    if (n > sampleN) {
      const bulk = await client.get<StackObject>(STACKS, ns, name(n - 1));
      // kubectl's entry only: a running operator may have added its own (finalizer, status) by now.
      const fields = (o: StackObject): string =>
        JSON.stringify(
          ((o.metadata['managedFields'] ?? []) as { manager: string; operation: string; fieldsV1: unknown }[])
            .filter((f) => f.manager === manager)
            .map((f) => [f.manager, f.operation, f.fieldsV1]),
        );
      realism.push({
        namespace: ns,
        apply: ssa ? 'server-side' : 'client-side',
        kubectlApplied: sampleN,
        objectBytes: JSON.stringify(sample).length,
        templateBytes: JSON.stringify(template).length,
        lastAppliedBytes: sampleAnnotation.length,
        managedFieldsBytes: JSON.stringify(sample.metadata['managedFields'] ?? []).length,
        bulkLikeKubectl: fields(bulk) === fields(sample) && (bulk.metadata.annotations?.[LAST_APPLIED] ?? '') === (ssa ? '' : annotationOf(n - 1)),
      });
    }
    return { ms: Math.round(ms), perSec: Math.round((n / ms) * 1000) };
  };
  const scrapeApiserver = async (): Promise<Sample[]> => parseProm(await apiserverGet(cp.server, '/metrics', cp.token, ca));
  const profileApiserver = async (seconds: number): Promise<{ seconds: number; file: string; top: string[] } | { error: string }> => {
    try {
      const body = await apiserverGetBytes(cp.server, `/debug/pprof/profile?seconds=${seconds}`, cp.token, ca, (seconds + 60) * 1000);
      mkdirSync(join(resultsDir, 'tmp'), { recursive: true });
      const file = join(resultsDir, 'tmp', `apiserver-${MODE}.pprof`);
      writeFileSync(file, body);
      return { seconds, file, top: pprofTop(file) };
    } catch (e) {
      return { error: String(e) };
    }
  };
  const scrapeEtcd = async (): Promise<Sample[]> => parseProm(await httpGetText(`${cp.etcdUrl}/metrics`));
  /** JSON bytes of one Ready Stack of a namespace, by part: what every write of it makes the API server decode and encode. */
  const objectSizes = async (ns: string): Promise<Record<string, unknown> | undefined> => {
    const list = await client.request<{ items: Record<string, unknown>[] }>({ method: 'GET', path: resourcePath(STACKS, ns), query: { limit: 1 } });
    const o = list.items[0] as { metadata: { annotations?: Record<string, string>; managedFields?: { manager: string; subresource?: string }[] }; spec: unknown; status?: unknown } | undefined;
    if (!o) return undefined;
    const len = (v: unknown): number => Buffer.byteLength(JSON.stringify(v ?? null));
    return {
      total: len(o),
      spec: len(o.spec),
      status: len(o.status),
      annotations: len(o.metadata.annotations),
      managedFields: Object.fromEntries((o.metadata.managedFields ?? []).map((m) => [`${m.manager}${m.subresource ? `/${m.subresource}` : ''}`, len(m)])),
      statusAsWritten: o.status,
    };
  };
  const inspectPort = await freePort();
  const startOperator = async (profile: boolean, inspect = false): Promise<OperatorChild> => {
    const nodeOptions = [...NODE_OPTIONS.split(' ').filter(Boolean), ...(inspect ? [`--inspect=127.0.0.1:${inspectPort}`] : [])];
    cgroup?.resetPeak();
    const op = (argv.operator === 'twin' ? spawnTwin : spawnOperator)({
      kubeconfig: cp.kubeconfigPath,
      metricsPort: await freePort(),
      probePort: await freePort(),
      workers: C.workers,
      pollInterval: C.pollInterval,
      resyncInterval: C.defaultResync,
      logFile,
      ...(profile ? { cpuProfDir: join(resultsDir, 'tmp', `profile-${MODE}`) } : {}),
      nodeOptions,
      entry: ENTRY,
      ...(cgroup ? { cgroupDir: cgroup.dir } : {}),
      ...(argv.kubeconfig ? {} : { inCluster: { server: cp.server, serviceAccountDir } }),
    });
    op.exited.then((code) => say(`operator ${op.pid} exited (${code})`)).catch(() => undefined);
    return op;
  };
  const opMetric = async (name: string, filter?: (l: Record<string, string>) => boolean): Promise<number> => {
    if (!operator) return NaN;
    return sumOf(await operator.metrics(), name, filter);
  };

  // =============================================================================================
  // Phase 5: restart with every Stack Ready. Spawn -> the provider has seen a read of every bulk
  // Stack; bound = N / provider qps (one rate-limited GET each); no Kubernetes write expected.
  // =============================================================================================
  const restartPhase = async (ns: string, total: number): Promise<void> => {
    await sleep(2000);
    say(`phase 5: restarting the operator with ${total} Ready Stacks`);
    const loadBefore5 = load();
    // The phase measures a restart at rest: when not every Stack was Ready, its writes are the rest finishing.
    const readyBefore = countIn(ready, ns);
    const a5 = await scrapeApiserver();
    bulkReads.clear();
    const op5 = await startOperator(false);
    operator = op5;
    const boundS = C.memStacks / C.bulkRateLimitQps;
    const allRead = await waitUntil(() => bulkReads.size >= C.memStacks, Math.max(120_000, boundS * 5000), 100);
    const wallS = bulkReads.size === 0 ? NaN : (Math.max(...bulkReads.values()) - op5.startedAt) / 1000;
    await sleep(5000);
    const w5 = writesDelta(a5, await scrapeApiserver());
    const writes = Object.entries(w5)
      .filter(([k]) => !k.endsWith(' leases'))
      .reduce((a, [, v]) => a + v, 0);
    results['restart'] = {
      stacks: total,
      readyBefore,
      readBulk: bulkReads.size,
      allRead,
      wallS: Math.round(wallS * 10) / 10,
      boundS,
      ratio: Math.round((wallS / boundS) * 100) / 100,
      target: 1.2,
      k8sWrites: writes,
      k8sWritesByVerbResource: w5,
      readyAfter: countIn(ready, ns),
      rss: procMemory(op5.pid),
      cgroup: cgroup?.stats(),
      operatorCpuS: Math.round(procCpuSeconds(op5.pid) * 10) / 10,
      load: { before: loadBefore5, after: load() },
    };
    say(`phase 5: ${JSON.stringify(results['restart'])}`);
    await op5.stop();
    operator = undefined;
  };

  // =============================================================================================
  // Phase 1: throughput. N Stacks created at once; wall time until all are Ready.
  // =============================================================================================
  const TP = 'bench-tp';
  const tpStacks = PHASES.has(1) ? C.tpStacks : 0;
  if (PHASES.has(1)) {
  await namespace(TP);
  await providerIn(TP, 'heat', { qps: C.clientQps, burst: C.clientBurst });
  operator = await startOperator(argv.profile === 'tp');
  if (!(await waitUntil(async () => (await fetch(operator!.readyzUrl).catch(() => undefined))?.ok === true, 60_000, 200))) throw new Error('operator not ready');
  await sleep(2000); // the provider controller checks the connection once
  emu.control.resetCounters();
  emu.engine.resetCounts();
  say(`phase 1: creating ${C.tpStacks} Stacks (provider limit ${C.rateLimitQps} qps)`);
  const loadBefore1 = load();
  const cpu1 = procCpuSeconds(operator.pid);
  const tp0 = performance.now();
  const created1 = await createStacks(TP, 'heat', C.tpStacks, 'tp');
  const boundS = Math.max((C.tpStacks * C.callsPerStackToReady) / C.rateLimitQps, C.operationMs / 1000);
  const allReady1 = await waitUntil(() => countIn(ready, TP) >= C.tpStacks, Math.max(300_000, boundS * 5000), 100);
  const lastReady = Math.max(...[...firstReady].filter(([k]) => k.startsWith(`${TP}/`)).map(([, t]) => t));
  const wallS = (lastReady - tp0) / 1000;
  const heatReq1 = emu.control.requestCounts();
  const heatCalls1 = Object.entries(heatReq1)
    .filter(([k]) => k.startsWith('heat:'))
    .reduce((a, [, v]) => a + v, 0);
  results['throughput'] = {
    stacks: C.tpStacks,
    allReady: allReady1,
    ready: countIn(ready, TP),
    createMs: created1.ms,
    wallS: Math.round(wallS * 10) / 10,
    boundS: Math.round(boundS * 10) / 10,
    ratio: Math.round((wallS / boundS) * 100) / 100,
    target: 1.2,
    heatRequests: heatReq1,
    throttled: emu.control.throttledCount,
    callsPerStack: Math.round((heatCalls1 / C.tpStacks) * 100) / 100,
    operatorCpuS: Math.round((procCpuSeconds(operator.pid) - cpu1) * 10) / 10,
    load: { before: loadBefore1, after: load() },
  };
  say(`phase 1: ${JSON.stringify(results['throughput'])}`);

  if (PHASES.has(2)) {
  // =============================================================================================
  // Phase 2: reaction latency. Paced spec changes to Ready Stacks; PATCH sent -> update request arrives.
  // =============================================================================================
  await waitUntil(() => countIn(ready, TP) >= C.tpStacks, 60_000);
  await sleep(3000);
  say(`phase 2: ${C.latencySamples} spec changes at ${C.latencyRatePerSec}/s with ${countIn(ready, TP)} Ready Stacks`);
  arrivals.clear();
  accepted.clear();
  const loadBefore2 = load();
  const sent = new Map<string, { send: number; resp: number }>();
  const lt0 = performance.now();
  const patches: Promise<void>[] = [];
  for (let i = 0; i < C.latencySamples; i++) {
    const due = lt0 + (i * 1000) / C.latencyRatePerSec;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const name = `tp-${String(i % C.tpStacks).padStart(5, '0')}`;
    latencyGets.delete(name);
    recordSeen.delete(name);
    specSeen.delete(name);
    latencyExpect.set(name, `v2-${i}`);
    latencyWatch.add(name);
    const send = performance.now();
    patches.push(
      client.patch(STACKS, TP, name, { spec: { parameters: { message: `v2-${i}` } } }, { contentType: MERGE_PATCH }).then(() => {
        sent.set(name, { send, resp: performance.now() });
      }),
    );
  }
  await Promise.all(patches);
  await waitUntil(() => arrivals.size >= C.latencySamples, 30_000);
  const reaction: number[] = [];
  const reactionFromResp: number[] = [];
  const engineAccept: number[] = [];
  const patchRtt: number[] = [];
  const toGet: number[] = [];
  const getToRecord: number[] = [];
  const recordToArrival: number[] = [];
  const toSeen: number[] = [];
  const seenToGet: number[] = [];
  const getToArrival: number[] = [];
  for (const [name, s] of sent) {
    const a = arrivals.get(name);
    if (a === undefined) continue;
    const g = latencyGets.get(name);
    const rec = recordSeen.get(name);
    const seen = specSeen.get(name);
    // Either operator (the twin writes no record): what any watcher sees, and the operator's part.
    if (g !== undefined && seen !== undefined && g < a) {
      toSeen.push(seen - s.send);
      seenToGet.push(g - seen);
      getToArrival.push(a - g);
    }
    if (g !== undefined && rec !== undefined && g < rec && rec <= a + 50) {
      toGet.push(g - s.send);
      getToRecord.push(rec - g);
      recordToArrival.push(a - rec);
    }
    reaction.push(a - s.send);
    reactionFromResp.push(a - s.resp);
    patchRtt.push(s.resp - s.send);
    const acc = accepted.get(name);
    if (acc !== undefined) engineAccept.push(acc - s.send);
  }
  const r = stats(reaction);
  results['latency'] = {
    stacks: C.tpStacks,
    samples: C.latencySamples,
    observed: reaction.length,
    ratePerSec: C.latencyRatePerSec,
    sendToArrivalMs: r,
    respToArrivalMs: stats(reactionFromResp),
    sendToEngineAcceptMs: stats(engineAccept),
    patchRoundTripMs: stats(patchRtt),
    // Where a reaction's time goes, from the emulator's arrivals and the bench's own watch: PATCH sent ->
    // the provider read arrives (API server write, watch delivery, the operator's queue); read arrives ->
    // the operation record is seen (the read's 30 ms, planning, the record's write and its watch
    // delivery to the bench); record seen -> update arrives (negative when the bench's watch is slower
    // than the operator's next step).
    breakdownMs: { sendToRead: stats(toGet), readToRecordSeen: stats(getToRecord), recordSeenToUpdate: stats(recordToArrival) },
    // The same reaction split for either operator: PATCH sent -> the bench's own watch shows the change
    // (the API server's write and a watch delivery: the floor any watcher has); that moment -> the
    // operator's provider read arrives (the operator's own share before the read: its watch decoding,
    // queue and reconcile; negative when the bench's watch is the slower one); read arrives -> the
    // update arrives (the read's injected latency, what the operator does with the answer and, for
    // ours, the operation record's write).
    splitMs: { sendToWatchSeen: stats(toSeen), watchSeenToRead: stats(seenToGet), readToUpdate: stats(getToArrival) },
    targetP99Ms: 100,
    targetP50Ms: 40,
    met: r.p99 < 100 && r.p50 < 40,
    load: { before: loadBefore2, after: load() },
  };
  latencyWatch.clear();
  say(`phase 2: ${JSON.stringify(results['latency'])}`);
  }
  await waitUntil(() => countIn(ready, TP) >= C.tpStacks, 120_000);
  }
  if (!PHASES.has(3)) return;

  // =============================================================================================
  // Phase 3: memory and cold start. Operator stopped; many Stacks created through the API; start it.
  // =============================================================================================
  say('phase 3: stopping the operator');
  await operator?.stop();
  operator = undefined;
  const BULK = 'bench-bulk';
  await namespace(BULK);
  emu.control.setRateLimit({ requestsPerSecond: C.bulkRateLimitQps, burst: C.bulkRateLimitQps });
  await providerIn(BULK, 'heat-bulk', { qps: C.bulkRateLimitQps, burst: 100 }, `${C.bulkResyncS}s`);
  say(`phase 3: creating ${C.memStacks} Stacks with the operator stopped`);
  const created3 = await createStacks(BULK, 'heat-bulk', C.memStacks, 'bulk');
  say(`phase 3: created in ${created3.ms} ms (${created3.perSec}/s)`);
  await waitUntil(() => countIn(new Set(informer.keys()), BULK) >= C.memStacks, 60_000, 500);
  await sleep(2000);
  const total = C.memStacks + tpStacks;
  const loadBefore3 = load();
  const a3 = await scrapeApiserver();
  const etcdCpu3 = sumOf(await scrapeEtcd(), 'process_cpu_seconds_total');
  const req3 = emu.control.requestCounts();
  bulkTrace.clear();
  operator = await startOperator(argv.profile === 'mem', argv['heap-snapshot'] || argv.profile === 'steady');
  const op3 = operator;
  const cold: Record<string, number | undefined> = {};
  const since = (): number => Math.round(performance.now() - op3.startedAt);
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = procMemory(op3.pid);
    if (m) peakRss = Math.max(peakRss, m.rssMiB);
  }, 500);
  const coldDeadline = performance.now() + 120_000;
  while (performance.now() < coldDeadline && cold['queuedMs'] === undefined) {
    try {
      const m = await op3.metrics();
      cold['metricsUpMs'] ??= since();
      if (sumOf(m, 'workqueue_adds_total', (l) => l['name'] === 'stack') >= total) cold['queuedMs'] = since();
      if (cold['readyzMs'] === undefined && (await fetch(op3.readyzUrl)).ok) cold['readyzMs'] = since();
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  const memAtQueued = procMemory(op3.pid);
  const heapAtQueued = await opMetric('nodejs_heap_size_used_bytes');
  say(`phase 3: cold start ${JSON.stringify(cold)} rss ${memAtQueued?.rssMiB} MiB`);
  const apiserverProfile = argv['apiserver-profile'] ? profileApiserver(Number(argv['apiserver-profile'])) : undefined;
  const readyTimeout = argv['ready-wait'] ? Number(argv['ready-wait']) * 1000 : QUICK ? 300_000 : 720_000;
  await waitUntil(
    () => {
      if (cold['allFinalizedMs'] === undefined && countIn(finalized, BULK) >= C.memStacks) cold['allFinalizedMs'] = since();
      return countIn(ready, BULK) >= C.memStacks;
    },
    readyTimeout,
    200,
  );
  cold['allReadyMs'] = countIn(ready, BULK) >= C.memStacks ? since() : undefined;
  const readyAtWaitEnd = countIn(ready, BULK);
  say(`phase 3: all ready ${JSON.stringify(cold)} (${countIn(ready, BULK)}/${C.memStacks})`);
  // Kubernetes writes and provider requests the operator made to get every new Stack Ready.
  const a3b = await scrapeApiserver();
  const w3 = writesDelta(a3, a3b);
  const writes3 = Object.values(w3).reduce((a, b) => a + b, 0);
  const apiserverCpuS3 = sumOf(a3b, 'process_cpu_seconds_total') - sumOf(a3, 'process_cpu_seconds_total');
  const etcdCpuS3 = sumOf(await scrapeEtcd(), 'process_cpu_seconds_total') - etcdCpu3;
  const objectSizes3 = await objectSizes(BULK);
  const writeMean3 = writeMeanMs(a3, a3b);
  const writesPerStack = Object.fromEntries(Object.entries(w3).map(([k, v]) => [k, Math.round((v / C.memStacks) * 100) / 100]));
  const req3b = emu.control.requestCounts();
  const trace3 = bulkTrace.summary();
  say(`phase 3: provider trace ${JSON.stringify(trace3)}`);
  const providerPerStack = Object.fromEntries(Object.entries(req3b).map(([k, v]) => [k, Math.round(((v - (req3[k] ?? 0)) / C.memStacks) * 100) / 100]));
  await sleep(5000);
  const mAfter = await op3.metrics();
  const memAfter = procMemory(op3.pid);
  results['memory'] = {
    stacks: total,
    created: created3,
    coldStart: cold,
    readyAtWaitEnd,
    readyWaitS: readyTimeout / 1000,
    coldStartDefinition: 'operator spawn -> its /metrics shows workqueue_adds_total{name="stack"} >= number of Stacks in the cluster',
    targetColdStartMs: 10_000,
    coldStartMet: cold['queuedMs'] !== undefined && cold['queuedMs'] < 10_000,
    atQueued: { ...memAtQueued, heapUsedMiB: Math.round((heapAtQueued / 2 ** 20) * 10) / 10 },
    afterSync: {
      ...memAfter,
      heapUsedMiB: Math.round((sumOf(mAfter, 'nodejs_heap_size_used_bytes') / 2 ** 20) * 10) / 10,
      heapTotalMiB: Math.round((sumOf(mAfter, 'nodejs_heap_size_total_bytes') / 2 ** 20) * 10) / 10,
      externalMiB: Math.round((sumOf(mAfter, 'nodejs_external_memory_bytes') / 2 ** 20) * 10) / 10,
    },
    peakRssSampledMiB: peakRss,
    cgroup: cgroup ? { version: cgroup.version, limit: MEMORY_LIMIT, ...cgroup.stats() } : undefined,
    targetRssMiB: 100,
    rssMet: (memAfter?.hwmMiB ?? Infinity) <= 100,
    operatorCpuS: Math.round(procCpuSeconds(op3.pid) * 10) / 10,
    // 10,000 new Stacks to Ready against the provider-rate bound (3 rate-limited calls each at bulkRateLimitQps).
    throughput: ((): Record<string, number | undefined> => {
      const boundS = (C.memStacks * C.callsPerStackToReady) / C.bulkRateLimitQps;
      const wallS = cold['allReadyMs'] === undefined ? undefined : cold['allReadyMs'] / 1000;
      return { stacks: C.memStacks, wallS, boundS, ratio: wallS === undefined ? undefined : Math.round((wallS / boundS) * 100) / 100, target: 1.2 };
    })(),
    k8sWritesPerNewStack: writesPerStack,
    k8sWriteServerMeanMs: writeMean3,
    // The control plane's own CPU over the phase (its process_cpu_seconds_total), per Kubernetes write.
    controlPlaneCpu: {
      apiserverS: Math.round(apiserverCpuS3 * 10) / 10,
      etcdS: Math.round(etcdCpuS3 * 10) / 10,
      writes: writes3,
      apiserverMsPerWrite: Math.round((apiserverCpuS3 * 1e4) / Math.max(1, writes3)) / 10,
    },
    objectSizes: objectSizes3,
    providerTrace: trace3,
    providerRequestsPerNewStack: providerPerStack,
    load: { before: loadBefore3, after: load() },
    ...(apiserverProfile ? { apiserverProfile: await apiserverProfile } : {}),
  };
  if (argv['heap-snapshot']) {
    const file = join(resultsDir, 'tmp', `heap-${MODE}.heapsnapshot`);
    mkdirSync(join(resultsDir, 'tmp'), { recursive: true });
    const t = performance.now();
    await takeHeapSnapshot(inspectPort, file);
    const h = summariseHeap(file, 20);
    (results['memory'] as Record<string, unknown>)['heapSnapshot'] = {
      tookMs: Math.round(performance.now() - t),
      liveHeapMiB: h.totalMiB,
      rssAfterGcMiB: procMemory(op3.pid)?.rssMiB,
      top: h.rows,
    };
  }
  say(`phase 3: ${JSON.stringify(results['memory'])}`);
  clearInterval(sampler);

  // =============================================================================================
  // Phase 4: steady state. All Stacks Ready; count Kubernetes writes and provider calls.
  // =============================================================================================
  await waitUntil(() => countIn(ready, BULK) >= C.memStacks && countIn(ready, TP) >= tpStacks, 60_000);
  await sleep(5000);
  if (!PHASES.has(4)) return;
  say(`phase 4: steady window ${C.steadyWindowS} s`);
  const loadBefore4 = load();
  const a0 = await scrapeApiserver();
  const req0 = emu.control.requestCounts();
  const mut0 = emu.engine.mutationCounts();
  const cpu4 = procCpuSeconds(op3.pid);
  const profileDir = join(resultsDir, 'tmp', `profile-${MODE}`);
  if (argv.profile === 'steady') mkdirSync(profileDir, { recursive: true });
  const stopProfile = argv.profile === 'steady' ? await startCpuProfile(inspectPort, join(profileDir, `steady-${Date.now()}.cpuprofile`)) : undefined;
  const w0 = performance.now();
  let readyDips = 0;
  const dipWatch = informer.onUpdate((_o, n) => {
    if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyDips++;
  });
  await sleep(C.steadyWindowS * 1000);
  await stopProfile?.();
  dipWatch();
  const windowS = (performance.now() - w0) / 1000;
  const a1 = await scrapeApiserver();
  const req1 = emu.control.requestCounts();
  const mut1 = emu.engine.mutationCounts();
  const writeDelta = writesDelta(a0, a1);
  const perMin = (n: number): number => Math.round((n / windowS) * 60 * 10) / 10;
  const watched = ['stacks', 'events', 'configmaps', 'secrets', 'leases', 'stackproviders', 'clusterstackproviders'];
  const k8sWritesNoLeases = Object.entries(writeDelta)
    .filter(([k]) => !k.endsWith(' leases'))
    .reduce((a, [, v]) => a + v, 0);
  const reqDelta: Record<string, number> = {};
  for (const [k, v] of Object.entries(req1)) if (v - (req0[k] ?? 0) > 0) reqDelta[k] = v - (req0[k] ?? 0);
  let mutations = 0;
  for (const [k, v] of Object.entries(mut1)) {
    const b = mut0[k];
    mutations += v.create + v.update + v.delete + v.cancel + v.other - (b ? b.create + b.update + b.delete + b.cancel + b.other : 0);
  }
  const heatGets = reqDelta['heat:get'] ?? 0;
  const expectedReadsPerMin = (C.memStacks * 60) / C.bulkResyncS + (tpStacks * 60) / 600;
  results['steady'] = {
    stacks: total,
    windowS: Math.round(windowS),
    k8sWritesByVerbResource: writeDelta,
    k8sWritesPerMin: Object.fromEntries(watched.map((r) => [r, perMin(Object.entries(writeDelta).filter(([k]) => k.split(' ')[1]?.split('/')[0] === r).reduce((a, [, v]) => a + v, 0))])),
    k8sWritesExceptLeasesPerMin: perMin(k8sWritesNoLeases),
    providerRequestsByOperation: reqDelta,
    providerMutationsPerMin: perMin(mutations),
    providerReadsPerMin: perMin(heatGets),
    expectedResyncReadsPerMin: Math.round(expectedReadsPerMin),
    resync: { bulk: `${C.bulkResyncS}s`, tp: C.defaultResync, jitter: '±10%' },
    readyDips,
    operatorCpuPerMinS: Math.round(((procCpuSeconds(op3.pid) - cpu4) / windowS) * 60 * 10) / 10,
    rssAfterMiB: procMemory(op3.pid),
    load: { before: loadBefore4, after: load() },
  };
  say(`phase 4: ${JSON.stringify(results['steady'])}`);
  await op3.stop();
  operator = undefined;
  if (PHASES.has(5)) await restartPhase(BULK, total);

  await emu.close();
}

// Stacks of both namespaces share one Heat project: names are prefixed (tp-, bulk-) to stay unique.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    const op = operator;
    op?.proc.kill('SIGKILL');
    say(`${sig}: stopping`);
    // A cgroup can be removed only once its last process has gone: wait for the exit (bounded).
    void Promise.race([op?.exited ?? Promise.resolve(), sleep(3000)]).finally(() => {
      cgroup?.remove();
      process.exit(130); // the control plane's exit hook kills etcd and the apiserver
    });
  });
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  results['error'] = err instanceof Error ? (err.stack ?? err.message) : String(err);
  say(`FAILED: ${String(results['error'])}`);
} finally {
  await operator?.stop().catch(() => undefined);
  await informer.stop().catch(() => undefined);
  if (argv.profile) {
    // Written by the operator child when it exits (phase 1's operator for tp, phase 3's for mem).
    const dir = join(resultsDir, 'tmp', `profile-${MODE}`);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort();
    const last = files[files.length - 1];
    if (last) results['profile'] = { phase: argv.profile, ...summariseProfile(join(dir, last)) };
  }
  results['finishedAt'] = new Date().toISOString();
  results['durationS'] = Math.round((performance.now() - t00) / 1000);
  if (!argv.out) writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${MODE}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(resultsDir, join(repoRoot, 'docs/benchmarks.md'));
  await cp.stop();
  cgroup?.remove();
  rmSync(serviceAccountDir, { recursive: true, force: true });
  say(`done in ${String(results['durationS'])} s; wrote test/bench/results/${MODE}.json and docs/benchmarks.md`);
}
process.exit(failed ? 1 : 0);
