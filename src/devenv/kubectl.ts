// Runs the real kubectl against a given cluster: `npm run dev` and the tests (which default the
// kubeconfig to the shared test cluster) both use it.
import { spawn } from 'node:child_process';
import { kubectlPath } from './paths.ts';

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
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return await new Promise<KubectlResult>((resolve, reject) => {
    const child = spawn(opts.bin ?? kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], {
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
