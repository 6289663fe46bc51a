// `stack-operator run` as a child process, like the container's entry point: --version, flags from
// the environment, the log formats, and command-line mistakes as one line on stderr with exit 2
// (issue 13 item 10, issue 20 item 4). The runs that start reach /readyz on the real API server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { installCrds } from '../../../src/devenv/crds.ts';
import { testKubeConfig, testKubeconfigPath, uniqueName } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { NODE, run, startOperator, waitFor } from '../../e2e/packaging/helpers.ts';

const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const MAIN = join(repoRoot, 'src', 'cli', 'main.ts');
// No STACK_OPERATOR_* / WATCH_NAMESPACE / LOG_* from the developer's shell leak into the runs.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(STACK_OPERATOR_|WATCH_NAMESPACE$|LOG_|POD_NAMESPACE$)/.test(k)));
const cli = (args: string[], env: Record<string, string> = {}) => run(NODE, [MAIN, ...args], { env: { ...cleanEnv, ...env }, timeoutMs: 60_000 });

beforeAll(async () => {
  await installCrds(testKubeconfigPath());
});

describe('stack-operator --version', () => {
  it('prints the package version, at the top level and for run', async () => {
    for (const args of [['--version'], ['run', '--version']]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`stack-operator ${VERSION}`);
    }
  });
});

describe('command-line mistakes: one line on stderr, exit 2, no stack trace', () => {
  it('an unknown flag prints the usage and exits 2', async () => {
    const r = await cli(['run', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("stack-operator: Unknown option '--bogus'");
    expect(r.stderr).toContain('usage: stack-operator run');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('an unknown flag of the emulator command exits 2 without a stack trace', async () => {
    const r = await cli(['emulator', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  const cases: [string, string[], Record<string, string>, string][] = [
    ['malformed duration', ['--poll-interval', 'soon'], {}, '--poll-interval "soon": expected a positive duration'],
    ['zero duration', ['--resync-interval', '0s'], {}, '--resync-interval "0s": expected a positive duration'],
    ['duration without unit', ['--leader-election-retry-period', '2'], {}, '--leader-election-retry-period "2"'],
    ['malformed duration from the environment', [], { STACK_OPERATOR_RESYNC_INTERVAL: '10 minutes' }, 'STACK_OPERATOR_RESYNC_INTERVAL "10 minutes"'],
    ['log format', ['--log-format', 'xml'], {}, '--log-format "xml": expected one of json, text'],
    ['log format from LOG_FORMAT', [], { LOG_FORMAT: 'yaml' }, 'LOG_FORMAT "yaml"'],
    ['log level', ['--log-level', 'loud'], {}, '--log-level "loud"'],
    ['workers', ['--max-concurrent-reconciles', '1.5'], {}, '--max-concurrent-reconciles "1.5": expected a positive integer'],
    ['kube api qps', ['--kube-api-qps', 'fast'], {}, '--kube-api-qps "fast": expected a number >= 0'],
    ['kube api burst from the environment', [], { STACK_OPERATOR_KUBE_API_BURST: '-3' }, 'STACK_OPERATOR_KUBE_API_BURST "-3": expected a number >= 0'],
    ['boolean from the environment', [], { STACK_OPERATOR_LEADER_ELECT: 'maybe' }, 'STACK_OPERATOR_LEADER_ELECT=maybe (for --leader-elect): expected true or false'],
    ['bind address', ['--metrics-bind-address', ':99999'], {}, '--metrics-bind-address ":99999"'],
    ['missing kubeconfig', ['--kubeconfig', '/nonexistent/kubeconfig'], {}, 'kubeconfig /nonexistent/kubeconfig'],
    ['leader election timings', ['--leader-elect', '--leader-election-renew-deadline', '20s'], {}, 'leader election: need lease duration (15000 ms) > renew deadline (20000 ms)'],
  ];
  it.each(cases)('%s', async (_name, args, env, message) => {
    const r = await cli(['run', '--kubeconfig', testKubeconfigPath(), ...args], env);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });
});

describe('run --help', () => {
  it('documents the environment variables', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['STACK_OPERATOR_<FLAG>', 'WATCH_NAMESPACE', 'POD_NAMESPACE', 'LOG_LEVEL', 'LOG_FORMAT', '--log-format', '--version']) expect(r.stdout).toContain(s);
  });
});

async function runUntilReady(args: string[], env: Record<string, string>, kubeconfig: string[] = ['--kubeconfig', testKubeconfigPath()]): Promise<{ logs: string; code: number | null }> {
  const probe = await freePort();
  const op = startOperator([...kubeconfig, '--metrics-bind-address', '0', ...args], {
    ...cleanEnv,
    STACK_OPERATOR_HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${probe}`,
    ...env,
  });
  try {
    await waitFor('/readyz', async () => (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok, 60_000);
  } finally {
    await op.stop();
  }
  const code = await op.stop();
  return { logs: op.logs(), code };
}

async function runUntilReadyWithin(env: Record<string, string>, timeoutMs: number): Promise<void> {
  const probe = await freePort();
  const op = startOperator(['--metrics-bind-address', '0'], { ...env, STACK_OPERATOR_HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${probe}` });
  try {
    await waitFor('/readyz', async () => (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok, timeoutMs);
  } finally {
    await op.stop();
  }
}

describe('run against the real API server', () => {
  it('in a pod (no kubeconfig anywhere) connects with the service account token and CA, without client-node', async () => {
    const kc = testKubeConfig();
    const server = new URL(kc.getCurrentCluster()?.server ?? '');
    const ca = kc.getCurrentCluster()?.caData ? Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString() : readFileSync(kc.getCurrentCluster()?.caFile ?? '', 'utf8');
    const sa = mkdtempSync(join(tmpdir(), 'sa-'));
    try {
      writeFileSync(join(sa, 'token'), `${kc.getCurrentUser()?.token ?? ''}\n`);
      writeFileSync(join(sa, 'ca.crt'), ca);
      // A module hook that fails the process if anything imports client-node's index (its generated API).
      const noClientNode = `--import=${join(repoRoot, 'test', 'integration', 'cli', 'forbid-client-node.ts')}`;
      const pod = { ...cleanEnv, KUBECONFIG: '', HOME: sa, NODE_OPTIONS: noClientNode, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, STACK_OPERATOR_SERVICEACCOUNT_DIR: sa };
      // Scoped to an empty namespace: this case is about the connection. Watching every namespace of the
      // shared test cluster, it once caught another file's Stack mid-reconcile at SIGTERM and missed the
      // 15 s stop (a shutdown that waited on an in-flight reconcile; a follow-up of its own).
      const { logs, code } = await runUntilReady(['--namespaces', uniqueName('pod')], pod, []);
      expect(code, logs).toBe(0);
      expect(logs).toContain('stack-operator starting');
      // The same with a token the API server does not know: never ready, so the token is what it used.
      writeFileSync(join(sa, 'token'), 'not-a-token');
      await expect(runUntilReadyWithin(pod, 8_000)).rejects.toThrow(/readyz/);
    } finally {
      rmSync(sa, { recursive: true, force: true });
    }
  });

  it('logs JSON by default and takes WATCH_NAMESPACE and the probe address from the environment', async () => {
    const ns = uniqueName('watched');
    const { logs, code } = await runUntilReady([], { WATCH_NAMESPACE: ns });
    expect(code).toBe(0);
    const starting = logs.split('\n').filter((l) => l.includes('stack-operator starting'));
    expect(starting).toHaveLength(1);
    const rec = JSON.parse(starting[0] ?? '') as { level: string; namespaces: string[]; version: string };
    expect(rec).toMatchObject({ level: 'info', namespaces: [ns], version: VERSION });
  });

  it('logs readable text with --log-format text (and a flag wins over the environment)', async () => {
    const { logs, code } = await runUntilReady(['--log-format', 'text', '--namespaces', 'from-flag'], { LOG_FORMAT: 'json', WATCH_NAMESPACE: 'from-env' });
    expect(code).toBe(0);
    const starting = logs.split('\n').find((l) => l.includes('stack-operator starting')) ?? '';
    expect(starting).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO  stack-operator: stack-operator starting /);
    expect(starting).toContain('namespaces=["from-flag"]');
    expect(starting).not.toContain('{"level"');
    expect(logs).toMatch(/INFO  stack-operator: stack-operator stopped/);
  });
});
