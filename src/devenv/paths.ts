// Where src/devenv/build-k8s.sh puts the real binaries. Keep the environment variables and defaults
// in step with that script: STACK_OPERATOR_CACHE, K8S_VERSION, HELM_VERSION.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const K8S_VERSION = process.env.K8S_VERSION ?? 'v1.35.4';
export const HELM_VERSION = process.env.HELM_VERSION ?? 'v4.3.1';

export type K8sBinary = 'kube-apiserver' | 'etcd' | 'kube-controller-manager' | 'kubectl';

/** Root of the build cache (outside the repo). */
export function cacheDir(): string {
  return process.env.STACK_OPERATOR_CACHE ?? join(homedir(), '.cache', 'stack-operator');
}

/** Directory holding kube-apiserver, etcd, kube-controller-manager and kubectl. */
export function k8sBinDir(): string {
  return join(cacheDir(), `k8s-${K8S_VERSION}`, 'bin');
}

/** Directory holding helm. */
export function helmBinDir(): string {
  return join(cacheDir(), `helm-${HELM_VERSION}`, 'bin');
}

/** Absolute path of one of the Kubernetes binaries (or helm). Does not check that it exists. */
export function binPath(name: K8sBinary | 'helm'): string {
  return name === 'helm' ? join(helmBinDir(), 'helm') : join(k8sBinDir(), name);
}

export function kubectlPath(): string {
  return binPath('kubectl');
}

export function helmPath(): string {
  return binPath('helm');
}

/** The repository root (two levels above this file: src/devenv, or dist/devenv in a build). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The build script that fills the cache. */
export const buildScript: string = join(repoRoot, 'src', 'devenv', 'build-k8s.sh');

/** Throws a helpful error when a binary is missing (the build script has not run). */
export function requireBinary(name: K8sBinary | 'helm'): string {
  const p = binPath(name);
  if (!existsSync(p)) {
    throw new Error(`${name} not found at ${p}; run \`bash src/devenv/build-k8s.sh\` (npm run env:build) first`);
  }
  return p;
}
