// Runs a program (never through a shell) and collects its output: kubectl for `npm run dev`, and the
// test helpers' helm / lua / kubectl processes. Kills it after timeoutMs (code 124); never throws on a
// non-zero exit.
import { spawn } from 'node:child_process';

export interface ProcessOptions {
  /** Written to stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Kill the process after this long; the result then has code 124. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runProcess(cmd: string, args: string[], opts: ProcessOptions): Promise<ProcessResult> {
  return await new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr: timedOut ? `${stderr}\n(${cmd} timed out after ${opts.timeoutMs} ms)` : stderr });
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}
