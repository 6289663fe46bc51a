// Installs the project's CRDs (crds/ in the checkout) into a cluster and waits until they are Established.
import { join } from 'node:path';
import { runKubectl, type KubectlOptions } from './kubectl.ts';
import { repoRoot } from './paths.ts';

export const CRD_NAMES = [
  'stacks.stackoperator.dev',
  'stackproviders.stackoperator.dev',
  'clusterstackproviders.stackoperator.dev',
];

export async function installCrds(kubeconfig: string, opts: Pick<KubectlOptions, 'bin'> = {}): Promise<void> {
  const apply = await runKubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-k', join(repoRoot, 'crds')], opts);
  if (apply.code !== 0) throw new Error(`installing CRDs failed: ${apply.stderr}`);
  // kubectl wait fails at once ("status.conditions accessor error") on a CRD created a moment ago whose
  // status has no conditions yet: that is "not yet", so try again, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    const wait = await runKubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)], opts);
    if (wait.code === 0) return;
    if (attempt >= 20 || !wait.stderr.includes('accessor error')) throw new Error(`CRDs not Established: ${wait.stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
