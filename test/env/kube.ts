// Helpers for integration / e2e tests that talk to the shared control plane started by
// test/env/global-setup.ts. Use inside vitest test files only (they rely on `inject`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { kubectlPath } from './paths.ts';

/** Path of the shared admin kubeconfig (from the global setup, or $KUBECONFIG_STACK_OPERATOR_TEST). */
export function testKubeconfigPath(): string {
  let p: string | undefined;
  try {
    p = inject('kubeconfig');
  } catch {
    p = undefined;
  }
  p ||= process.env.KUBECONFIG_STACK_OPERATOR_TEST;
  if (!p) throw new Error('no test kubeconfig: run under the vitest integration/e2e project (globalSetup test/env/global-setup.ts)');
  return p;
}

/** A KubeConfig for a kubeconfig file (default: the shared test control plane's admin kubeconfig). */
export function testKubeConfig(kubeconfigPath: string = testKubeconfigPath()): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Another kubeconfig (e.g. a dedicated ControlPlane's). Default: the shared one. */
  kubeconfig?: string;
  /** Kill kubectl after this long (default 60 s); the result then has code 124. */
  timeoutMs?: number;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl (built with the apiserver) against the test control plane. Never throws on a non-zero exit. */
export async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const kubeconfig = opts.kubeconfig ?? testKubeconfigPath();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return await new Promise<KubectlResult>((resolve, reject) => {
    const child = spawn(kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr: timedOut ? `${stderr}\n(kubectl timed out after ${timeoutMs} ms)` : stderr });
    });
    child.stdin.on('error', () => undefined); // kubectl may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** A DNS-1123 label `<prefix>-<random>` (at most 63 characters). */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a fresh namespace `<prefix>-<random>` for test isolation and returns its name. It carries the
 * label `test.stack-operator.io/prefix=<prefix>`. Delete it with deleteNamespace() when done (the
 * shared control plane runs the namespace controller, so deletion completes).
 */
export async function uniqueNamespace(prefix: string, kc: KubeConfig = testKubeConfig()): Promise<string> {
  const name = uniqueName(prefix);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({
    body: {
      metadata: { name, labels: { 'test.stack-operator.io/prefix': name.slice(0, name.lastIndexOf('-')) } },
    },
  });
  return name;
}

/** Starts deleting a namespace (does not wait; a missing namespace is fine). */
export async function deleteNamespace(name: string, kc: KubeConfig = testKubeConfig()): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}
