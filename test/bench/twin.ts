// The controller-runtime twin as the benchmark's peer (issue #16 item 5): `npm run bench -- --twin`
// runs the whole bench twice, one run after the other on this machine, first with our operator, then
// with the twin (test/bench/twin, a Go operator on controller-runtime) as the operator child, each
// run with its own fresh kube-apiserver + etcd (same binaries, same flags) and the same emulator
// settings and load, so neither run inherits the other's objects. Then it renders the side by side.
// The results are untyped JSON read back from disk; rendering them is deliberately loose.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/devenv/paths.ts';
import { httpGetText, parseProm, type OperatorChild, type spawnOperator } from './lib.ts';

export const twinBuildScript = join(repoRoot, 'test/bench/twin/build.sh');

/** Builds the twin (cached by source hash; see build.sh) and returns its path and the build time. */
export function buildTwin(): { path: string; buildMs: number } {
  const t = performance.now();
  const r = spawnSync('bash', [twinBuildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`twin build failed (${r.status})`);
  return { path: r.stdout.trim().split('\n').pop() ?? '', buildMs: Math.round(performance.now() - t) };
}

/** buildTwin without blocking the event loop (a test file waits for a cold build or for the
 * background prebuild's lock for minutes). */
export async function buildTwinAsync(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [twinBuildScript], { maxBuffer: 16 << 20 });
  return stdout.trim().split('\n').pop() ?? '';
}

/** The twin as the operator child: the same flags the bench gives our operator, the same interface
 * (Node flags and --cpu-prof do not apply to a Go binary and are ignored). */
export function spawnTwin(opts: Parameters<typeof spawnOperator>[0] & { kubeApiQps?: number; kubeApiBurst?: number; watchNamespace?: string }): OperatorChild {
  const { path } = buildTwin();
  const args = [
    `--kubeconfig=${opts.kubeconfig}`,
    `--metrics-bind-address=127.0.0.1:${opts.metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${opts.probePort}`,
    `--max-concurrent-reconciles=${opts.workers}`,
    `--poll-interval=${opts.pollInterval}`,
    `--resync-interval=${opts.resyncInterval}`,
    `--kube-api-qps=${opts.kubeApiQps ?? 0}`,
    `--kube-api-burst=${opts.kubeApiBurst ?? 0}`,
    '--zap-log-level=error',
    ...(opts.watchNamespace ? [`--watch-namespace=${opts.watchNamespace}`] : []),
  ];
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const startedAt = performance.now();
  // In the same memory cgroup as our operator when the bench uses one (the chart's limit), for a fair RSS.
  const proc = opts.cgroupDir
    ? spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroupDir, path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const metricsUrl = `http://127.0.0.1:${opts.metricsPort}/metrics`;
  return {
    proc,
    pid: proc.pid ?? -1,
    metricsUrl,
    readyzUrl: `http://127.0.0.1:${opts.probePort}/readyz`,
    startedAt,
    exited,
    metrics: async () => parseProm(await httpGetText(metricsUrl)),
    stop: async (timeoutMs = 20_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs the bench with our operator, then with the twin (child processes); returns the worse exit code. */
export async function runSideBySide(args: string[], mode: string): Promise<number> {
  const pass = args.filter((a) => a !== '--twin' && !a.startsWith('--out') && !a.startsWith('--operator'));
  const cold = buildTwin();
  process.stderr.write(`[bench --twin] twin binary ${cold.path} (build step ${cold.buildMs} ms)\n`);
  const ours = await runBench([...pass, `--out=${mode}`]);
  const twin = await runBench([...pass, `--out=twin-${mode}`, '--operator=twin']);
  return Math.max(ours, twin);
}

/** One whole bench run as a child process (its own control plane); resolves with its exit code. */
export function runBench(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, 'test/bench/main.ts'), ...args], { stdio: 'inherit' });
    p.once('exit', (code) => resolve(code ?? 1));
  });
}

const read = (f: string): Record<string, any> | undefined => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined);
const sum = (o: Record<string, number> | undefined): number | undefined => (o ? Math.round(Object.values(o).reduce((a, b) => a + b, 0) * 100) / 100 : undefined);

const perStack = (m: any): number | undefined => (m?.['controlPlaneCpu'] ? Math.round((m['controlPlaneCpu']['apiserverS'] / m['throughput']['stacks']) * 1e4) / 10 : undefined);

/** Rows of the side-by-side table: figure, ours, twin (numbers; lower is better for every row). */
function rows(o: Record<string, any>, t: Record<string, any>): [string, number | undefined, number | undefined][] {
  const theirs = figures(t);
  return figures(o).map(([name, a], i) => [name, a, theirs[i]?.[1]]);
}

/** The headline figures of one run, labelled with its own sizes (lower is better for every one). */
export function figures(o: Record<string, any>): [string, number | undefined][] {
  const tp = (r: any): any => r['throughput'];
  const lat = (r: any): any => r['latency']?.['sendToArrivalMs'];
  const split = (r: any): any => r['latency']?.['splitMs'];
  const mem = (r: any): any => r['memory'];
  const n = (r: any): string => `${tp(r)?.['stacks'] ?? '?'}`;
  const m = (r: any): string => `${mem(r)?.['stacks'] ?? '?'}`;
  return [
    [`${n(o)} new Stacks → all Ready, ratio to the provider-rate bound`, tp(o)?.['ratio']],
    [`reaction latency p50 (ms), ${n(o)} Ready Stacks`, lat(o)?.['p50']],
    [`reaction latency p99 (ms), ${n(o)} Ready Stacks`, lat(o)?.['p99']],
    [`  of it, p50 (ms): PATCH sent → a watcher sees the change (the API server's part)`, split(o)?.['sendToWatchSeen']?.['p50']],
    [`  of it, p50 (ms): seen → the operator's provider read arrives (the operator's part before its read)`, split(o)?.['watchSeenToRead']?.['p50']],
    [`  of it, p50 (ms): read arrives → update arrives (the read's latency, then the operator; ours writes its operation record, during the read since the eleventh round)`, split(o)?.['readToUpdate']?.['p50']],
    [`cold start with ${m(o)} Stacks: spawn → all queued (ms)`, mem(o)?.['coldStart']?.['queuedMs']],
    [`cold start: spawn → all ${m(o)} Ready (ms)`, mem(o)?.['coldStart']?.['allReadyMs']],
    [`throughput at scale: ${mem(o)?.['throughput']?.['stacks'] ?? '?'} new Stacks → all Ready, ratio to the provider-rate bound`, mem(o)?.['throughput']?.['ratio']],
    [`API server's mean time per status PATCH during that phase (ms)`, mem(o)?.['k8sWriteServerMeanMs']?.['PATCH stacks/status']],
    [`API server CPU per new Stack in that phase (ms; its process_cpu_seconds_total / Stacks)`, perStack(mem(o))],
    [`one Ready Stack as stored (JSON bytes)`, mem(o)?.['objectSizes']?.['total']],
    [`RSS with ${m(o)} Stacks after sync (MiB)`, mem(o)?.['afterSync']?.['rssMiB']],
    [`peak RSS, VmHWM (MiB)`, mem(o)?.['afterSync']?.['hwmMiB']],
    [`RSS at the end of the steady state (MiB)`, o['steady']?.['rssAfterMiB']?.['rssMiB']],
    [`Kubernetes writes per new Stack (create → Ready)`, sum(mem(o)?.['k8sWritesPerNewStack'])],
    [`provider requests per new Stack`, sum(mem(o)?.['providerRequestsPerNewStack'])],
    [`CPU seconds, phase 1 (${n(o)} Stacks to Ready)`, tp(o)?.['operatorCpuS']],
    [`CPU seconds, phase 3 (cold start, ${m(o)} Stacks to Ready)`, mem(o)?.['operatorCpuS']],
    [`CPU seconds per minute at rest (steady state)`, o['steady']?.['operatorCpuPerMinS']],
    [`Kubernetes writes per minute at rest (leases excepted)`, o['steady']?.['k8sWritesExceptLeasesPerMin']],
    [`restart with every Stack Ready: spawn → every bulk Stack read (s)`, o['restart']?.['wallS']],
    [`Kubernetes writes during the restart (leases excepted)`, o['restart']?.['k8sWrites']],
  ];
}

const TWIN_METHOD = [
  'The twin (`test/bench/twin/`, built by `test/bench/twin/build.sh` into the cache) is a Go operator on controller-runtime v0.25.2 written as its',
  'documentation and the kubebuilder scaffold recommend: hand-written types for Stack and StackProvider (only the fields it uses), the',
  "manager's cached client (Stacks, StackProviders, Secrets), `GenerationChangedPredicate` on Stacks, the finalizer added by a merge patch,",
  'status written through the status subresource by a merge patch of the diff (nothing when unchanged), `RequeueAfter` the poll interval',
  'while an operation runs and the resync interval at rest. It gets the flags the bench gives ours: the same workers',
  '(`MaxConcurrentReconciles`), poll and resync intervals, no client-side Kubernetes rate limit (ours: `--kube-api-qps` 0; the twin sets',
  "client-go's QPS to -1 instead of controller-runtime's 20/30 default), and the StackProvider's `spec.rateLimit` as a token bucket on Heat",
  'calls. Same Heat calls per new Stack (GET by name → 404, POST, GET → `CREATE_COMPLETE`). It does less than ours: heat and inline',
  'templates only, no Events, no operation record, no dependencies, outputs, approval or cancel (a vanished stack is re-created); `/readyz` is',
  "controller-runtime's ping. Its heap figures are not reported (no `nodejs_*` metrics); RSS and CPU come from `/proc` for both.",
].join('\n');

/** The side-by-side section of docs/benchmarks.md for one mode ('' when either run is missing). */
export function sideBySide(resultsDir: string, mode: string): string {
  const o = read(join(resultsDir, `${mode}.json`));
  const t = read(join(resultsDir, `twin-${mode}.json`));
  if (!o || !t || t['config']?.['operator'] !== 'twin') return '';
  const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : String(x));
  const out = [
    `### Side by side with the controller-runtime twin (${mode})`,
    '',
    `\`npm run bench -- --twin${mode === 'quick' ? ' --quick' : ''}\`: ours ${o['startedAt']} (${o['durationS']} s), twin ${t['startedAt']} (${t['durationS']} s); each run on its own fresh control plane, same emulator settings and load. Lower is better in every row; ratio = ours / twin.`,
    '',
    TWIN_METHOD,
    '',
    '| figure | ours | twin | ours / twin |',
    '|---|---|---|---|',
  ];
  for (const [name, a, b] of rows(o, t)) {
    if (a === undefined && b === undefined) continue; // a figure the runs predate
    const ratio = a !== undefined && b !== undefined && b > 0 ? `${Math.round((a / b) * 100) / 100}` : '–';
    out.push(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${ratio} |`);
  }
  out.push('');
  const loads = (r: any): string => ['throughput', 'latency', 'memory', 'steady', 'restart'].map((p) => `${p} ${r[p]?.['load']?.['before'] ?? '–'} → ${r[p]?.['load']?.['after'] ?? '–'}`).join('; ');
  out.push(`Load average (1/5/15 min) before → after each phase. Ours: ${loads(o)}. Twin: ${loads(t)}.`);
  for (const [who, r] of [['ours', o], ['twin', t]] as const) {
    const m = r['memory'];
    if (m && m['readyAtWaitEnd'] < r['config']?.['memStacks']) out.push(`\n**${who}: only ${m['readyAtWaitEnd']}/${r['config']['memStacks']} Stacks were Ready at the end of phase 3's ${m['readyWaitS']} s wait**: its phase-3 figures (RSS, writes and provider requests per new Stack, CPU) are taken at that point, not after convergence, and its steady state was not at rest.`);
  }
  if (o['error'] || t['error']) out.push(`\n**A run failed:** ours \`${String(o['error'] ?? 'ok').split('\n')[0]}\`, twin \`${String(t['error'] ?? 'ok').split('\n')[0]}\`.`);
  return out.join('\n');
}
