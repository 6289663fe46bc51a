// Runs the real kubectl against a given cluster: `npm run dev` and the tests (which default the
// kubeconfig to the shared test cluster) both use it.
import { kubectlPath } from './paths.ts';
import { runProcess } from './process.ts';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Kill kubectl after this long (default 60 s); the result then has code 124. */
  timeoutMs?: number;
  /** The kubectl binary. Default: the one built with the control plane (exact version match). */
  bin?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with this kubeconfig. Never throws on a non-zero exit. */
export async function runKubectl(kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  return await runProcess(opts.bin ?? kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: { ...process.env, KUBECONFIG: kubeconfig },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}
