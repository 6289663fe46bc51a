// A namespace, the emulator on a fixed loopback port and its provider objects, with no operator: the
// reliability tests start the operator themselves (a child process, or in-process). Works against the
// shared control plane or a dedicated one (pass its kubeconfig). No vitest imports beyond kube.ts.
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { STACKS } from '../../../src/api/v1alpha1/resources.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { installCrds } from '../../../src/devenv/crds.ts';
import { kubectl, testKubeConfig, uniqueName } from '../../env/kube.ts';
import { type ProviderKind, providerObjects } from '../stacks/harness.ts';

export interface RelEnv {
  ns: string;
  kubeconfig: string;
  emu: Emulator;
  client: KubeClient;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  apply(obj: unknown): Promise<void>;
  getStack(name: string): Promise<StackObject | undefined>;
  waitStack(name: string, pred: (s: StackObject) => boolean, what: string, timeoutMs?: number): Promise<StackObject>;
  waitGone(name: string, timeoutMs?: number): Promise<void>;
  counts(provider: 'heat' | 'rfs' | 'ros' | 'cloudfoundry', name: string): Counts;
  /** Removes finalizers, deletes the namespace, closes the emulator. */
  close(): Promise<void>;
}

export interface Counts {
  create: number;
  update: number;
  delete: number;
  cancel: number;
  other: number;
  rejected: number;
  stackIds: string[];
}

const ZERO: Counts = { create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0, stackIds: [] };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startRelEnv(opts: {
  kubeconfig: string;
  providers: ProviderKind[];
  emulator?: Parameters<typeof startEmulator>[0];
  prefix?: string;
  /** Skip CRD installation (already done). */
  crdsInstalled?: boolean;
}): Promise<RelEnv> {
  const kubeconfig = opts.kubeconfig;
  if (!opts.crdsInstalled) await installCrds(kubeconfig);
  const ns = uniqueName(opts.prefix ?? 'rel');
  const k = (args: string[], input?: string) => kubectl(args, { kubeconfig, ...(input !== undefined ? { input } : {}) });
  const c = await k(['create', 'namespace', ns]);
  if (c.code !== 0) throw new Error(`create namespace: ${c.stderr}`);
  // A fixed loopback port: the operator child process reaches the emulator through the provider objects.
  const port = await freePort();
  const emu = await startEmulator({ host: '127.0.0.1', port, operationSpeed: 0.02, ...opts.emulator });
  const client = new KubeClient(testKubeConfig(kubeconfig));

  const apply = async (obj: unknown): Promise<void> => {
    const r = await k(['apply', '-n', ns, '--server-side', '--force-conflicts', '--field-manager=test', '-f', '-'], JSON.stringify(obj));
    if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
  };
  for (const kind of opts.providers) for (const o of providerObjects(emu, kind)) await apply(o);

  const getStack = async (name: string): Promise<StackObject | undefined> => {
    try {
      return await client.get<StackObject>(STACKS, ns, name);
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  const waitStack = async (name: string, pred: (s: StackObject) => boolean, what: string, timeoutMs = 30_000): Promise<StackObject> => {
    const deadline = Date.now() + timeoutMs;
    let last: StackObject | undefined;
    while (Date.now() < deadline) {
      last = await getStack(name);
      if (last && pred(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on stack ${name}; last status: ${JSON.stringify(last?.status ?? null, null, 1)}`);
  };
  const waitGone = async (name: string, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await getStack(name))) return;
      await sleep(100);
    }
    const last = await getStack(name);
    throw new Error(`stack ${name} still exists after ${timeoutMs} ms: ${JSON.stringify(last?.status ?? null)}`);
  };
  const counts = (provider: 'heat' | 'rfs' | 'ros' | 'cloudfoundry', name: string): Counts => {
    const all = Object.entries(emu.engine.mutationCounts(provider, name));
    // Keys are "<provider>/<scope>/<name>": sum over scopes (one scope per provider object here).
    const out: Counts = { ...ZERO, stackIds: [] };
    for (const [key, v] of all) {
      if (!key.endsWith(`/${name}`)) continue;
      out.create += v.create;
      out.update += v.update;
      out.delete += v.delete;
      out.cancel += v.cancel;
      out.other += v.other;
      out.rejected += v.rejected;
      out.stackIds.push(...v.stackIds);
    }
    return out;
  };
  return {
    ns,
    kubeconfig,
    emu,
    client,
    kubectl: k,
    apply,
    getStack,
    waitStack,
    waitGone,
    counts,
    close: async () => {
      const list = await k(['get', 'stacks', '-n', ns, '-o', 'name']);
      for (const n of list.stdout.split('\n').filter(Boolean)) {
        await k(['patch', n, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      }
      await k(['delete', 'namespace', ns, '--wait=false']);
      await emu.close();
    },
  };
}
