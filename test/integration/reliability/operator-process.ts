// The operator as a CHILD PROCESS (`node src/cli/main.ts run ...`), so tests can SIGKILL it, let the
// crash switch (STACK_OPERATOR_CRASH_AT) end it between two steps, and restart it. The emulator runs in
// the test process on a fixed loopback port that the child reaches through the provider objects.
// Also used by the soak (test/soak/main.ts), so nothing here depends on vitest.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../../src/devenv/paths.ts';

export interface OperatorProcessOptions {
  kubeconfig: string;
  namespaces: string[];
  /** STACK_OPERATOR_CRASH_AT, e.g. 'after-operation-recorded:create'. Unset: the switch is inert. */
  crashAt?: string;
  /** Extra flags after the defaults. */
  args?: string[];
  /** Label for failure messages. */
  name?: string;
  logLevel?: string;
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or 128 + signal number style names as a string) once the child ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  /** The last ~256 KiB of stdout + stderr (JSON log lines). */
  logs(): string;
  /** Log lines containing `text`. */
  grep(text: string): string[];
  /** SIGTERM (graceful) and wait, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

const LOG_LIMIT = 256 * 1024;

/** Starts `stack-operator run` with fast defaults (200 ms poll, 10 s resync). */
export function startOperatorProcess(opts: OperatorProcessOptions): OperatorProcess {
  const args = [
    join(repoRoot, 'src', 'cli', 'main.ts'),
    'run',
    '--kubeconfig',
    opts.kubeconfig,
    '--namespaces',
    opts.namespaces.join(','),
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--poll-interval',
    '200ms',
    '--resync-interval',
    '10s',
    '--log-level',
    opts.logLevel ?? 'info',
    ...(opts.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.STACK_OPERATOR_CRASH_AT;
  if (opts.crashAt) env.STACK_OPERATOR_CRASH_AT = opts.crashAt;
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const onData = (c: Buffer): void => {
    buf += c.toString('utf8');
    if (buf.length > LOG_LIMIT) buf = buf.slice(buf.length - LOG_LIMIT);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: -1, signal: null });
    });
  });
  const waitFor = async (ms: number): Promise<boolean> => {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => (t = setTimeout(() => res(false), ms)))]);
    clearTimeout(t);
    return r;
  };
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    get alive() {
      return !done;
    },
    logs: () => buf,
    grep: (text) => buf.split('\n').filter((l) => l.includes(text)),
    stop: async (graceMs = 15_000) => {
      if (done) return;
      child.kill('SIGTERM');
      if (!(await waitFor(graceMs))) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    kill: async () => {
      if (done) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves with the exit once the child ended, or throws after `timeoutMs` with its last logs. */
export async function waitExit(p: OperatorProcess, timeoutMs: number, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.exited, new Promise<undefined>((res) => (t = setTimeout(() => res(undefined), timeoutMs)))]);
  clearTimeout(t);
  if (!r) throw new Error(`operator did not exit (${what}) within ${timeoutMs} ms; last logs:\n${p.logs().slice(-3000)}`);
  return r;
}
