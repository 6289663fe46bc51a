// vitest globalSetup for the integration and e2e projects: builds (or finds cached) the real
// Kubernetes binaries, starts ONE shared control plane (etcd + kube-apiserver +
// kube-controller-manager) and provides its coordinates to the tests (see test/env/kube.ts).
//
// Both projects list this file; vitest runs the global setups of the projects one after another in
// the same process, so the control plane is shared through globalThis with a reference count and
// stopped by the last teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from '../../src/devenv/control-plane.ts';
import { buildScript, repoRoot } from '../../src/devenv/paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig of the shared test control plane. */
    kubeconfig: string;
    /** https://127.0.0.1:<port> of the shared kube-apiserver. */
    kubeServer: string;
    /** Admin bearer token (group system:masters). */
    kubeToken: string;
  }
}

/** Also exported to child processes (operator binaries, scripts) started by tests. */
export const KUBECONFIG_ENV = 'KUBECONFIG_STACK_OPERATOR_TEST';

interface Shared {
  plane: Promise<ControlPlane>;
  refs: number;
  prebuild?: ChildProcess;
}
const KEY = Symbol.for('stack-operator.test-env.control-plane');
const g = globalThis as unknown as Record<symbol, Shared | undefined>;

async function runBuildScript(): Promise<void> {
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [buildScript, 'control-plane'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${buildScript} failed (${signal ?? `exit ${code}`})`)),
    );
  });
  const ms = Date.now() - t0;
  if (ms > 5_000) process.stderr.write(`[test-env] build-k8s.sh took ${Math.round(ms / 1000)} s\n`);
}

/**
 * test/env/prebuild.sh in the background at the lowest CPU and I/O priority (why: see that script).
 * STACK_OPERATOR_PREBUILD=0 turns it off; each test file still installs or builds what it needs.
 */
function startPrebuild(): ChildProcess | undefined {
  if (process.env.STACK_OPERATOR_PREBUILD === '0') return undefined;
  const script = join(repoRoot, 'test/env/prebuild.sh');
  const child = spawn('nice', ['-n', '19', 'ionice', '-c', '3', 'bash', script], {
    cwd: repoRoot,
    detached: true, // its own process group, so teardown stops the builds it started too
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('error', (err) => process.stderr.write(`[test-env] prebuild not started: ${err.message}\n`));
  return child;
}

/** Stops a prebuild still running at teardown; every step it runs is safe to interrupt. */
function stopPrebuild(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

async function acquire(): Promise<ControlPlane> {
  let shared = g[KEY];
  if (!shared) {
    const plane = (async () => {
      await runBuildScript();
      const cp = await startControlPlane({ controllerManager: true });
      process.stderr.write(
        `[test-env] control plane ${cp.server} up in ${cp.timings.totalMs} ms ` +
          `(etcd ${cp.timings.etcdMs}, apiserver ${cp.timings.apiserverMs}, ` +
          `controller-manager ${cp.timings.controllerManagerMs ?? '-'}); dir ${cp.dir}\n`,
      );
      return cp;
    })();
    shared = { plane, refs: 0 };
    const s = shared;
    void plane.then(() => {
      s.prebuild = startPrebuild();
    }, () => undefined);
    g[KEY] = shared;
    plane.catch(() => {
      if (g[KEY] === shared) g[KEY] = undefined;
    });
  }
  shared.refs++;
  try {
    return await shared.plane;
  } catch (err) {
    shared.refs--;
    throw err;
  }
}

async function release(): Promise<void> {
  const shared = g[KEY];
  if (!shared) return;
  shared.refs--;
  if (shared.refs > 0) return;
  g[KEY] = undefined;
  stopPrebuild(shared.prebuild);
  const cp = await shared.plane;
  await cp.stop();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await acquire();
  project.provide('kubeconfig', cp.kubeconfigPath);
  project.provide('kubeServer', cp.server);
  project.provide('kubeToken', cp.token);
  process.env[KUBECONFIG_ENV] = cp.kubeconfigPath;
  return async () => {
    await release();
    if (!g[KEY]) delete process.env[KUBECONFIG_ENV];
  };
}
