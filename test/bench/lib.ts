// Helpers of the benchmark (test/bench/main.ts): Prometheus text parsing, the operator child process,
// bounded-concurrency object creation, percentiles, /proc sampling and a .cpuprofile summary.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../src/devenv/paths.ts';

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
export function apiserverGet(server: string, path: string, token: string, ca: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server}${path}`, { headers: { authorization: `Bearer ${token}` }, ca, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(body) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
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
}): OperatorChild {
  const nodeArgs = [...(opts.nodeOptions ?? []), ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [])];
  const args = [
    ...nodeArgs,
    join(repoRoot, 'src/cli/main.ts'),
    'run',
    '--kubeconfig',
    opts.kubeconfig,
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
  const proc = spawn(join(repoRoot, 'node_modules/.bin/node'), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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
  for (const n of prof.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    total += us;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = short(n.callFrame.url);
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}@${where}:${n.callFrame.lineNumber + 1}`;
    const e = byFn.get(key) ?? { name, where: `${where}:${n.callFrame.lineNumber + 1}`, us: 0 };
    e.us += us;
    byFn.set(key, e);
    const fileKey = name.startsWith('(') && !n.callFrame.url ? name : where;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): number => Math.round((us / Math.max(1, busy)) * 1000) / 10;
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
  };
}
