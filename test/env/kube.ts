// Helpers for integration / e2e tests that talk to the shared control plane started by
// test/env/global-setup.ts. Use inside vitest test files only (they rely on `inject`).
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { runKubectl, type KubectlOptions as DevenvKubectlOptions, type KubectlResult } from '../../src/devenv/kubectl.ts';

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

export type { KubectlResult } from '../../src/devenv/kubectl.ts';

export interface KubectlOptions extends DevenvKubectlOptions {
  /** Another kubeconfig (e.g. a dedicated ControlPlane's). Default: the shared one. */
  kubeconfig?: string;
}

/** Runs the real kubectl (built with the apiserver) against the test control plane. Never throws on a non-zero exit. */
export async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const { kubeconfig, ...rest } = opts;
  return await runKubectl(kubeconfig ?? testKubeconfigPath(), args, rest);
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
