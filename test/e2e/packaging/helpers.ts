// Helpers for the packaging e2e tests: real helm / kubectl / lua processes, a kubeconfig for a
// ServiceAccount token, the operator as a child process, and the RBAC expectations shared by the Helm
// chart and the kustomize install.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { kubectl } from '../../env/kube.ts';
import { writeTokenKubeconfig } from '../../../src/devenv/kubeconfig.ts';
import { buildScript, repoRoot, requireBinary } from '../../../src/devenv/paths.ts';
import { runProcess } from '../../../src/devenv/process.ts';

export const CHART_DIR = join(repoRoot, 'charts', 'stack-operator');
export const NODE = join(repoRoot, 'node_modules', '.bin', 'node');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (never through a shell); kills it after timeoutMs (code 124). Never throws on exit codes. */
export async function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return await runProcess(cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? 120_000, cwd: opts.cwd ?? repoRoot });
}

let helmBuilt: Promise<string> | undefined;

/**
 * Waits until helm is built (src/devenv/build-k8s.sh helm: at once when cached; on a fresh machine it
 * waits for the background prebuild's build, test/env/prebuild.sh). Call it from a beforeAll with a
 * long timeout, so the wait is never charged to a test's own timeout.
 */
export function ensureHelm(): Promise<string> {
  helmBuilt ??= runProcess('bash', [buildScript, 'helm'], { timeoutMs: 2_400_000, cwd: repoRoot }).then((r) => {
    if (r.code !== 0) throw new Error(`build-k8s.sh helm failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
    return requireBinary('helm');
  });
  return helmBuilt;
}

/** The real helm (built by src/devenv/build-k8s.sh), with its state in a private HELM_* dir. */
export function helmRunner(kubeconfig: string): (args: string[], input?: string) => Promise<RunResult> {
  const home = mkdtempSync(join(tmpdir(), 'so-helm-'));
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  return async (args, input) => run(await ensureHelm(), args, { env, ...(input !== undefined ? { input } : {}) });
}

export function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`.slice(0, 8000));
  return r.stdout;
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
};

export function parseDocs(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) throw new Error(`YAML: ${d.errors[0]?.message}`);
    const o = d.toJSON() as K8sObject | null;
    if (o && typeof o === 'object') out.push(o);
  }
  return out;
}

export function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** Polls `fn` until it returns a truthy value (bounded). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr instanceof Error ? `: ${lastErr.message}` : ''}`);
}

/** A kubeconfig that authenticates as a ServiceAccount with a bound token (kubectl create token). */
export async function serviceAccountKubeconfig(adminKubeconfig: string, server: string, caFile: string, namespace: string, sa: string): Promise<{ path: string; cleanup(): void }> {
  const token = must(await kubectl(['create', 'token', sa, '-n', namespace, '--duration=1h'], { kubeconfig: adminKubeconfig }), 'kubectl create token').trim();
  const dir = mkdtempSync(join(tmpdir(), 'so-sa-'));
  const path = writeTokenKubeconfig(join(dir, 'kubeconfig'), { server, caFile, token, user: sa, namespace });
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OperatorProcess {
  child: ChildProcess;
  /** stdout + stderr so far (JSON log lines). */
  logs(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `node src/cli/main.ts run <args>` as a child process, like the container's entry point. */
export function startOperator(args: string[], env: NodeJS.ProcessEnv = {}): OperatorProcess {
  const child = spawn(NODE, [join(repoRoot, 'src', 'cli', 'main.ts'), 'run', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: string): void => {
    out += c;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Lines of the operator's JSON log that mention an authorization failure. */
export function forbiddenLines(logs: string): string[] {
  return logs.split('\n').filter((l) => /forbidden|HTTP 403|cannot (get|list|watch|create|patch|update)/i.test(l));
}

/** `kubectl auth can-i` as the given ServiceAccount: true = yes. */
export async function canI(kubeconfig: string, sa: { namespace: string; name: string }, verb: string, resource: string, namespace?: string, subresource?: string): Promise<boolean> {
  const ns = namespace === undefined ? ['--all-namespaces'] : ['-n', namespace];
  const sub = subresource ? [`--subresource=${subresource}`] : [];
  const r = await kubectl(['auth', 'can-i', verb, resource, ...sub, ...ns, `--as=system:serviceaccount:${sa.namespace}:${sa.name}`], { kubeconfig });
  const answer = r.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${verb} ${resource}: ${r.stdout} ${r.stderr}`);
  return answer === 'yes';
}

export interface Permission {
  verb: string;
  /** TYPE or TYPE/NAME, as kubectl auth can-i takes it. */
  resource: string;
  subresource?: string;
  /** undefined: all namespaces; otherwise that namespace. */
  namespace?: string;
  allowed: boolean;
  why: string;
}

/**
 * What the operator's ServiceAccount may and may not do in the cluster-wide mode (chart default and
 * config/default). `ns` is any Stack namespace, `own` the operator's namespace.
 */
export function clusterWideMatrix(ns: string, own: string, leaseName = 'stack-operator'): Permission[] {
  const split = (resource: string): Pick<Permission, 'resource' | 'subresource'> => {
    const m = /^([a-z.]+)#([a-z]+)$/.exec(resource);
    return m ? { resource: m[1] as string, subresource: m[2] } : { resource };
  };
  const yes = (verb: string, resource: string, namespace: string | undefined, why: string): Permission => ({ verb, ...split(resource), namespace, allowed: true, why });
  const no = (verb: string, resource: string, namespace: string | undefined, why: string): Permission => ({ verb, ...split(resource), namespace, allowed: false, why });
  return [
    yes('list', 'stacks.stackoperator.dev', undefined, 'Stack informer, all namespaces'),
    yes('watch', 'stacks.stackoperator.dev', undefined, 'Stack informer, all namespaces'),
    yes('patch', 'stacks.stackoperator.dev', ns, 'finalizer add / remove (JSON patch)'),
    yes('patch', 'stacks.stackoperator.dev#status', ns, 'status merge patch'),
    yes('update', 'stacks.stackoperator.dev#finalizers', ns, 'OwnerReferencesPermissionEnforcement'),
    yes('list', 'stackproviders.stackoperator.dev', undefined, 'StackProvider informer'),
    yes('patch', 'stackproviders.stackoperator.dev#status', ns, 'provider Ready condition'),
    yes('watch', 'clusterstackproviders.stackoperator.dev', undefined, 'ClusterStackProvider informer'),
    yes('get', 'namespaces', undefined, "a ClusterStackProvider's namespaceSelector"),
    no('list', 'namespaces', undefined, 'namespaces are read by name'),
    yes('patch', 'clusterstackproviders.stackoperator.dev#status', undefined, 'provider Ready condition'),
    yes('get', 'secrets', ns, 'credentials and parametersFrom Secrets'),
    yes('create', 'secrets', ns, 'outputs Secret'),
    yes('update', 'secrets', ns, 'outputs Secret it created, at the resourceVersion it read'),
    no('patch', 'secrets', ns, 'outputs are replaced at a resourceVersion, never patched blindly'),
    yes('get', 'configmaps', ns, 'template configMapRef, parametersFrom'),
    yes('create', 'configmaps', ns, 'outputs ConfigMap'),
    yes('update', 'configmaps', ns, 'outputs ConfigMap it created'),
    no('patch', 'configmaps', ns, 'outputs are replaced at a resourceVersion, never patched blindly'),
    no('list', 'configmaps', undefined, 'ConfigMaps are read by name'),
    yes('create', 'events.events.k8s.io', ns, 'events about Stacks'),
    yes('patch', 'events.events.k8s.io', ns, 'event series'),
    yes('create', 'leases.coordination.k8s.io', own, 'leader election'),
    yes('update', `leases.coordination.k8s.io/${leaseName}`, own, 'leader election renew'),
    no('list', 'secrets', undefined, 'a Secret list returns every Secret in the cluster'),
    no('watch', 'secrets', ns, 'no Secret informer'),
    no('list', 'secrets', ns, 'the operator only gets named Secrets'),
    no('delete', 'secrets', ns, 'never deletes Secrets (outputs are garbage-collected by owner)'),
    no('delete', 'pods', ns, 'no pod access at all'),
    no('create', 'pods', ns, 'no pod access at all'),
    no('create', 'pods#exec', ns, 'no exec'),
    no('create', 'stacks.stackoperator.dev', ns, 'users create Stacks, not the operator'),
    no('delete', 'stacks.stackoperator.dev', ns, 'the operator never deletes Stacks'),
    no('update', 'stackproviders.stackoperator.dev', ns, 'provider specs belong to users'),
    no('update', 'leases.coordination.k8s.io/some-other-lease', own, 'only its own Lease'),
    no('create', 'leases.coordination.k8s.io', ns, 'leases only in its own namespace'),
    no('delete', 'customresourcedefinitions.apiextensions.k8s.io', undefined, 'never touches CRDs'),
    no('create', 'clusterrolebindings.rbac.authorization.k8s.io', undefined, 'no RBAC escalation'),
    no('impersonate', 'serviceaccounts', ns, 'no impersonation'),
    no('get', 'nodes', undefined, 'no node access'),
  ];
}

/** Evaluates a matrix and returns the rows that do not hold (empty = all as expected). */
export async function checkMatrix(kubeconfig: string, sa: { namespace: string; name: string }, matrix: Permission[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const p of matrix) {
    const got = await canI(kubeconfig, sa, p.verb, p.resource, p.namespace, p.subresource);
    if (got !== p.allowed) wrong.push(`${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''} ${p.namespace ?? '(all namespaces)'}: got ${got ? 'yes' : 'no'}, want ${p.allowed ? 'yes' : 'no'} (${p.why})`);
  }
  return wrong;
}

/** A HOT template the emulator runs, with one output. */
export function heatTemplate(value: string): Record<string, unknown> {
  return {
    heat_template_version: '2018-08-31',
    parameters: { message: { type: 'string', default: value } },
    resources: {
      app: { type: 'OS::Heat::TestResource', properties: { value: { get_param: 'message' }, action_wait_secs: { create: 1, update: 1, delete: 1 } } },
    },
    outputs: { message: { value: { get_attr: ['app', 'output'] } } },
  };
}

export type StackLike = { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } };

export const isReady = (s: StackLike): boolean =>
  s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && s.status.observedGeneration === s.metadata.generation;

export async function getJson<T>(kubeconfig: string, args: string[]): Promise<T | undefined> {
  const r = await kubectl(['get', ...args, '-o', 'json'], { kubeconfig });
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as T;
}
