// Installs the project's CRDs (crds/) into a test control plane and waits until they are Established.
import { join } from 'node:path';
import { kubectl } from './kube.ts';
import { repoRoot } from './paths.ts';

export const CRD_NAMES = [
  'stacks.stackoperator.dev',
  'stackproviders.stackoperator.dev',
  'clusterstackproviders.stackoperator.dev',
];

export async function installCrds(kubeconfig?: string): Promise<void> {
  const opts = kubeconfig ? { kubeconfig } : {};
  const apply = await kubectl(['apply', '--server-side', '--force-conflicts', '-k', join(repoRoot, 'crds')], opts);
  if (apply.code !== 0) throw new Error(`installing CRDs failed: ${apply.stderr}`);
  const wait = await kubectl(
    ['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)],
    opts,
  );
  if (wait.code !== 0) throw new Error(`CRDs not Established: ${wait.stderr}`);
}
