// Helpers of the benchmark (test/bench/main.ts): Prometheus text parsing, the operator child process,
// bounded-concurrency object creation, percentiles, /proc sampling and a .cpuprofile summary.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STACKS } from '../../src/api/v1alpha1/resources.ts';
import { repoRoot } from '../../src/devenv/paths.ts';
import { type KubeClient, resourcePath } from '../../src/runtime/kube-client.ts';

// ---- Prometheus text format ----------------------------------------------------------------------

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

export function sumOf(samples: Sample[], name: string, filter: (l: Record<string, string>) => boolean = () => true): number {
  let s = 0;
  for (const x of samples) if (x.name === name && filter(x.labels)) s += x.value;
  return s;
}

export async function httpGetText(url: string, timeoutMs = 5_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return await res.text();
}

/** GET with the apiserver's admin token (self-signed CA). */
export async function apiserverGet(server: string, path: string, token: string, ca: string, timeoutMs = 15_000): Promise<string> {
  return (await apiserverGetBytes(server, path, token, ca, timeoutMs)).toString('utf8');
}

/** The same GET, its body as bytes (e.g. a pprof profile from /debug/pprof/profile). */
export function apiserverGetBytes(server: string, path: string, token: string, ca: string, timeoutMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server}${path}`, { headers: { authorization: `Bearer ${token}` }, ca, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * `go tool pprof -top` of a Go CPU profile (profiles from net/http/pprof carry their symbols): the
 * heaviest functions by cumulative and by flat time. Go is the machine image's (test/bench/twin/build.sh).
 */
export function pprofTop(file: string, nodes = 45): string[] {
  const env = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/local/go/bin`, GOTOOLCHAIN: 'local' };
  const run = (sort: string): string[] => {
    const r = spawnSync('go', ['tool', 'pprof', '-top', `-nodecount=${nodes}`, `-${sort}`, file], { env, encoding: 'utf8' });
    return r.status === 0 ? [`sorted by ${sort}:`, ...r.stdout.split('\n').filter(Boolean)] : [`go tool pprof failed: ${r.stderr.trim()}`];
  };
  return [...run('cum'), ...run('flat')];
}

// ---- statistics ----------------------------------------------------------------------------------

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function stats(values: number[]): { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number } {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    n: s.length,
    min: r(s[0] ?? NaN),
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1] ?? NaN),
    mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
  };
}

export const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

// ---- bounded concurrency -------------------------------------------------------------------------

export async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Retries fn a few times (429 / 5xx / network from a loaded apiserver), bounded. */
export async function retry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      const code = (err as { code?: number }).code;
      if (code === 409 || code === 422 || code === 400 || code === 404) throw err;
      await sleep(200 * 2 ** i);
    }
  }
  throw last;
}

/** Polls pred every intervalMs until it is true or timeoutMs passed; returns whether it became true. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

// ---- /proc -----------------------------------------------------------------------------------------

export function procMemory(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMiB: Math.round((kb('VmRSS') / 1024) * 10) / 10, hwmMiB: Math.round((kb('VmHWM') / 1024) * 10) / 10 };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

// ---- the operator child ----------------------------------------------------------------------------

export interface OperatorChild {
  proc: ChildProcess;
  pid: number;
  metricsUrl: string;
  readyzUrl: string;
  startedAt: number;
  exited: Promise<number | null>;
  metrics(): Promise<Sample[]>;
  stop(timeoutMs?: number): Promise<void>;
}

export function spawnOperator(opts: {
  kubeconfig: string;
  metricsPort: number;
  probePort: number;
  workers: number;
  pollInterval: string;
  resyncInterval: string;
  logFile: string;
  cpuProfDir?: string;
  nodeOptions?: string[];
  /** Run the operator inside this cgroup directory (its shell joins it, then execs node). */
  cgroupDir?: string;
  /** The operator's entry point. Default src/cli/main.ts (type-stripped); the image runs dist/cli/main.js. */
  entry?: string;
  /** Connect like in a pod (service account token + CA in this directory, no kubeconfig), as the chart runs it. */
  inCluster?: { server: string; serviceAccountDir: string };
}): OperatorChild {
  const nodeArgs = [...(opts.nodeOptions ?? []), ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [])];
  const args = [
    ...nodeArgs,
    opts.entry ?? join(repoRoot, 'src/cli/main.ts'),
    'run',
    ...(opts.inCluster ? [] : ['--kubeconfig', opts.kubeconfig]),
    '--metrics-bind-address',
    `127.0.0.1:${opts.metricsPort}`,
    '--health-probe-bind-address',
    `127.0.0.1:${opts.probePort}`,
    '--max-concurrent-reconciles',
    String(opts.workers),
    '--poll-interval',
    opts.pollInterval,
    '--resync-interval',
    opts.resyncInterval,
    '--log-level',
    'warn',
  ];
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const startedAt = performance.now();
  const node = join(repoRoot, 'node_modules/.bin/node');
  const u = opts.inCluster ? new URL(opts.inCluster.server) : undefined;
  const env = opts.inCluster
    ? { ...process.env, KUBECONFIG: '', HOME: opts.inCluster.serviceAccountDir, KUBERNETES_SERVICE_HOST: u?.hostname, KUBERNETES_SERVICE_PORT: u?.port, STACK_OPERATOR_SERVICEACCOUNT_DIR: opts.inCluster.serviceAccountDir }
    : process.env;
  // In a cgroup: the shell moves itself in before exec, so every page node touches is charged there.
  const proc = opts.cgroupDir
    ? spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroupDir, node, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(node, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
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

// ---- .cpuprofile summary ---------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Sampled while the event loop had nothing to do; percentages below are of the busy time. */
  idleMs: number;
  busyMs: number;
  topFunctions: { name: string; where: string; selfMs: number; selfPct: number }[];
  topFiles: { where: string; selfMs: number; selfPct: number }[];
  /** Time in a function and everything it called (each function counted once per stack), % of busy. */
  topInclusive?: { name: string; where: string; totalMs: number; totalPct: number }[];
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, prof.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, { name: string; where: string; us: number }>();
  const byFile = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const short = (url: string): string => {
    if (!url) return '(native/vm)';
    const u = url.replace(/^file:\/\//, '');
    const i = u.indexOf('/node_modules/');
    if (i >= 0) return u.slice(i + 1);
    return u.startsWith(repoRoot) ? u.slice(repoRoot.length + 1) : u;
  };
  const label = (n: ProfileNode): { key: string; name: string; where: string } => {
    const name = n.callFrame.functionName || '(anonymous)';
    const where = `${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    return { key: `${name}@${where}`, name, where };
  };
  for (const n of prof.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    total += us;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const { key, name, where } = label(n);
    const e = byFn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    byFn.set(key, e);
    const fileKey = name.startsWith('(') && !n.callFrame.url ? name : short(n.callFrame.url);
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): number => Math.round((us / Math.max(1, busy)) * 1000) / 10;
  const inclusive = inclusiveTimes(prof.nodes, selfUs, label);
  return {
    file,
    totalMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    busyMs: Math.round(busy / 1000),
    topFunctions: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), selfPct: pct(e.us) })),
    topFiles: [...byFile.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, selfMs: Math.round(us / 1000), selfPct: pct(us) })),
    topInclusive: [...inclusive.values()]
      .filter((e) => !['(root)', '(idle)', '(program)', '(garbage collector)'].includes(e.name))
      .sort((a, b) => b.us - a.us)
      .slice(0, top * 2)
      .map((e) => ({ name: e.name, where: e.where, totalMs: Math.round(e.us / 1000), totalPct: pct(e.us) })),
  };
}

/** Each function's time including its callees, over the profile's call tree; recursion counted once. */
function inclusiveTimes(
  nodes: ProfileNode[],
  selfUs: Map<number, number>,
  label: (n: ProfileNode) => { key: string; name: string; where: string },
): Map<string, { name: string; where: string; us: number }> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Map<string, { name: string; where: string; us: number }>();
  const onPath = new Set<string>();
  const walk = (n: ProfileNode): number => {
    const l = label(n);
    const first = !onPath.has(l.key);
    if (first) onPath.add(l.key);
    let us = selfUs.get(n.id) ?? 0;
    for (const c of n.children ?? []) {
      const child = byId.get(c);
      if (child) us += walk(child);
    }
    if (first) {
      onPath.delete(l.key);
      const e = out.get(l.key) ?? { name: l.name, where: l.where, us: 0 };
      e.us += us;
      out.set(l.key, e);
    }
    return us;
  };
  if (nodes[0]) walk(nodes[0]);
  return out;
}

// ---- realistic Stacks ------------------------------------------------------------------------------

/**
 * A HOT template of about 4 KiB, the size of a small real one: parameters with descriptions and
 * constraints, a handful of resources of the types the emulator's Heat accepts, outputs. Every
 * resource is created in parallel by the emulator, so the operation still takes baseOperationMs.
 */
export function realisticTemplate(): Record<string, unknown> {
  const params: Record<string, unknown> = { message: { type: 'string', description: 'Value written by every resource of this stack' } };
  const resources: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  for (const p of ['flavor', 'image', 'network', 'key_name', 'environment']) {
    params[p] = {
      type: 'string',
      default: `${p}-default`,
      description: `The ${p.replace('_', ' ')} of the application tier, set through spec.parameters`,
      constraints: [{ length: { min: 1, max: 255 }, description: `${p} must be 1 to 255 characters` }],
    };
  }
  for (const r of ['web', 'app', 'db', 'cache', 'worker']) {
    resources[`${r}_config`] = { type: 'OS::Heat::Value', properties: { type: 'json', value: { tier: r, flavor: { get_param: 'flavor' }, image: { get_param: 'image' }, network: { get_param: 'network' }, env: { get_param: 'environment' } } } };
    resources[`${r}_secret`] = { type: 'OS::Heat::RandomString', properties: { length: 24, character_classes: [{ class: 'lettersdigits', min: 4 }] } };
    resources[r] = { type: 'OS::Heat::TestResource', depends_on: [`${r}_config`], properties: { value: { list_join: ['-', [r, { get_param: 'message' }]] } } };
    outputs[`${r}_value`] = { description: `What the ${r} tier reports once created`, value: { get_attr: [r, 'output'] } };
  }
  return { heat_template_version: '2018-08-31', description: 'Three-tier application stack used by the benchmark (about 4 KiB, like a small real template)', parameters: params, resources, outputs };
}

/** A Stack manifest as a user writes it in a file for `kubectl apply`. */
export function stackManifest(name: string, namespace: string, provider: string, template: Record<string, unknown> | string): Record<string, unknown> {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name, namespace, labels: { app: 'bench', tier: 'three-tier' } },
    spec: { providerRef: { name: provider }, template: { inline: template }, parameters: { message: 'v1' } },
  };
}

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** The field manager `kubectl apply` (client-side) uses when it creates an object. */
export const KUBECTL_APPLY_MANAGER = 'kubectl-client-side-apply';
/** The field manager of `kubectl apply --server-side`. */
export const KUBECTL_SSA_MANAGER = 'kubectl';

/**
 * Creates `s-00000` … in `namespace` as client-side `kubectl apply` leaves them (its field manager and
 * last-applied annotation), 16 at a time; returns each name's resourceVersion. For the probes with their
 * own control plane (initial-list.ts, write-cost.ts); main.ts also checks the shape against real kubectl.
 */
export async function createLikeKubectlApply(client: KubeClient, namespace: string, n: number, template: Record<string, unknown> | string): Promise<Map<string, string>> {
  const rv = new Map<string, string>();
  await pool(Array.from({ length: n }, (_, i) => i), 16, async (i) => {
    const m = stackManifest(`s-${String(i).padStart(5, '0')}`, namespace, 'heat', template) as { metadata: Record<string, unknown> };
    m.metadata['annotations'] = { [LAST_APPLIED]: `${JSON.stringify(m)}\n` };
    const made = await retry(() =>
      client.request<{ metadata: { name: string; resourceVersion: string } }>({ method: 'POST', path: resourcePath(STACKS, namespace), query: { fieldManager: KUBECTL_APPLY_MANAGER }, body: m }),
    );
    rv.set(made.metadata.name, made.metadata.resourceVersion);
  });
  return rv;
}

// ---- memory cgroup (v1 or v2) ----------------------------------------------------------------------

export interface MemoryCgroup {
  version: 'v1' | 'v2';
  dir: string;
  limitBytes: number;
  stats(): { usageMiB: number; peakMiB: number; failcnt: number; oomKills: number };
  /** Starts the peak (max usage) over, where the kernel allows it. */
  resetPeak(): void;
  remove(): void;
}

/**
 * A child memory cgroup of this process's own, limited to limitBytes (swap too, on v1: Kubernetes
 * nodes run without swap). Undefined when the hierarchy is not writable (no root, no cgroup fs).
 */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | undefined {
  try {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = own.find((l) => /^\d+:memory:/.test(l));
    const version = v1 ? 'v1' : 'v2';
    const rel = v1 ? v1.split(':')[2] : own.find((l) => l.startsWith('0::'))?.slice(3);
    if (rel === undefined) return undefined;
    const dir = join(version === 'v1' ? '/sys/fs/cgroup/memory' : '/sys/fs/cgroup', rel, name);
    mkdirSync(dir, { recursive: true });
    const put = (f: string, v: string): void => writeFileSync(join(dir, f), v);
    if (version === 'v1') {
      put('memory.limit_in_bytes', String(limitBytes));
      try {
        put('memory.memsw.limit_in_bytes', String(limitBytes));
      } catch {
        // no swap accounting
      }
    } else {
      put('memory.max', String(limitBytes));
      put('memory.swap.max', '0');
    }
    const num = (f: string, re?: RegExp): number => {
      try {
        const t = readFileSync(join(dir, f), 'utf8');
        return Number(re ? (re.exec(t)?.[1] ?? 0) : t.trim());
      } catch {
        return NaN;
      }
    };
    const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
    return {
      version,
      dir,
      limitBytes,
      stats: () =>
        version === 'v1'
          ? { usageMiB: mib(num('memory.usage_in_bytes')), peakMiB: mib(num('memory.max_usage_in_bytes')), failcnt: num('memory.failcnt'), oomKills: num('memory.oom_control', /oom_kill (\d+)/) }
          : { usageMiB: mib(num('memory.current')), peakMiB: mib(num('memory.peak')), failcnt: num('memory.events', /max (\d+)/), oomKills: num('memory.events', /oom_kill (\d+)/) },
      resetPeak: () => {
        try {
          put(version === 'v1' ? 'memory.max_usage_in_bytes' : 'memory.peak', '0');
        } catch {
          // older v2 kernels: memory.peak cannot be reset
        }
      },
      remove: () => {
        try {
          rmdirSync(dir);
        } catch {
          // still has a process (killed later) or already gone
        }
      },
    };
  } catch {
    return undefined;
  }
}

/** "256Mi" / "1Gi" / "300M" / bytes → bytes (the Kubernetes quantities a chart's memory limit uses). */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const mult: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  return Math.round(Number(m[1]) * (mult[m[2] ?? ''] ?? 1));
}
