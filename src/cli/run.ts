// `stack-operator run`: the operator process.
import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { inClusterAvailable, inClusterConnection, SERVICE_ACCOUNT_DIR } from '../runtime/in-cluster.ts';
import type { ClusterConnection } from '../runtime/kube-client.ts';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Logger } from '../runtime/logging.ts';
import { LeaderElectionLostError, Manager } from '../runtime/manager.ts';
import { buildOperator } from '../stacks/operator.ts';
import type { CrashPoint } from '../stacks/context.ts';
import { bindAddress, durationFlag, envName, type FlagSpec, packageVersion, parseFlags, UsageError } from './flags.ts';
import { cliLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from './log-format.ts';

const HELP = `usage: stack-operator run [flags]

  --kubeconfig PATH                 kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)
  --namespaces a,b                  watch only these namespaces (default: all)            env WATCH_NAMESPACE
  --label-selector SEL              reconcile only Stacks matching SEL (sharding)
  --max-concurrent-reconciles N     Stack workers (default 10)
  --kube-api-qps N                  client-side limit of API requests per second (default 0: none,
                                    the API server's priority and fairness applies)
  --kube-api-burst N                requests allowed in a burst above --kube-api-qps (default: qps)
  --leader-elect                    use a Lease so only one replica reconciles (default off)
  --leader-election-id NAME         Lease name (default stack-operator)
  --leader-election-namespace NS    Lease namespace (default: $POD_NAMESPACE, else default) env POD_NAMESPACE
  --leader-election-lease-duration DUR  how long a standby waits before taking over (default 15s)
  --leader-election-renew-deadline DUR  the leader gives up if it cannot renew within this (default 10s)
  --leader-election-retry-period DUR    interval of acquire / renew attempts (default 2s)
  --metrics-bind-address HOST:PORT  /metrics (default :8080; 0 disables)
  --health-probe-bind-address H:P   /healthz and /readyz (default :8081; 0 disables)
  --poll-interval DUR               default provider poll interval while an operation runs (5s)
  --resync-interval DUR             default resync interval at rest (10m)
  --log-level LEVEL                 trace|debug|info|warn|error (default info)            env LOG_LEVEL
  --log-format FORMAT               json|text (default json; text is for people)          env LOG_FORMAT
  --version                         print the version and exit
  -h, --help                        print this help and exit

DUR is a positive duration: 500ms, 30s, 5m, 1h30m. Anything else is an error (exit 2), never a default.

Environment: every flag can also be set as STACK_OPERATOR_<FLAG> (upper case, '-' as '_'), e.g.
STACK_OPERATOR_POLL_INTERVAL=10s or STACK_OPERATOR_LEADER_ELECT=true; a flag on the command line wins.
The names shown with "env" above are read too, after the STACK_OPERATOR_ one.`;

/** The flags of \`run\`; each also from STACK_OPERATOR_<FLAG> and the conventional variables listed. */
const FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (
    [
      ['kubeconfig', { type: 'string' }],
      ['namespaces', { type: 'string', default: '' }, ['WATCH_NAMESPACE']],
      ['label-selector', { type: 'string', default: '' }],
      ['max-concurrent-reconciles', { type: 'string', default: '10' }],
      ['kube-api-qps', { type: 'string', default: '0' }],
      ['kube-api-burst', { type: 'string', default: '0' }],
      ['leader-elect', { type: 'boolean', default: false }],
      ['leader-election-id', { type: 'string', default: 'stack-operator' }],
      ['leader-election-namespace', { type: 'string', default: 'default' }, ['POD_NAMESPACE']],
      ['leader-election-lease-duration', { type: 'string', default: '15s' }],
      ['leader-election-renew-deadline', { type: 'string', default: '10s' }],
      ['leader-election-retry-period', { type: 'string', default: '2s' }],
      ['metrics-bind-address', { type: 'string', default: ':8080' }],
      ['health-probe-bind-address', { type: 'string', default: ':8081' }],
      ['poll-interval', { type: 'string', default: '5s' }],
      ['resync-interval', { type: 'string', default: '10m' }],
      ['log-level', { type: 'string', default: 'info' }, ['LOG_LEVEL']],
      ['log-format', { type: 'string', default: 'json' }, ['LOG_FORMAT']],
    ] as [string, FlagSpec, string[]?][]
  ).map(([name, spec, aliases]) => [name, { ...spec, env: [envName(name), ...(aliases ?? [])] }]),
);
// Not from the environment: a stray STACK_OPERATOR_HELP must not turn the operator into a help printer.
FLAGS.help = { type: 'boolean', short: 'h', default: false };
FLAGS.version = { type: 'boolean', default: false };

/**
 * Test-only fault switch (docs/reliability.md): STACK_OPERATOR_CRASH_AT=<point>[:<action>][@<n>][!stop]
 * exits hard there, or with `!stop` stops the process itself (SIGSTOP: a paused leader, for fencing).
 */
export function crashSwitch(spec: string | undefined): ((point: CrashPoint, action: string) => void) | undefined {
  if (!spec) return undefined;
  const m = /^([a-z-]+)(?::([A-Za-z]+))?(?:@(\d+))?(!stop)?$/.exec(spec);
  if (!m) throw new Error(`STACK_OPERATOR_CRASH_AT=${spec}: expected <point>[:<action>][@<n>][!stop]`);
  let remaining = Number(m[3] ?? 1);
  return (point, action) => {
    if (point !== m[1] || (m[2] && m[2] !== action)) return;
    if (--remaining !== 0) return;
    if (m[4]) {
      process.stderr.write(`STACK_OPERATOR_CRASH_AT: stopping at ${point}:${action}\n`);
      process.kill(process.pid, 'SIGSTOP');
      return;
    }
    process.stderr.write(`STACK_OPERATOR_CRASH_AT: exiting at ${point}:${action}\n`);
    process.exit(137);
  };
}

interface RunSettings {
  values: Record<string, string>;
  leaderElect: boolean;
  workers: number;
  kubeApi: { qps: number; burst: number };
  logFormat: LogFormat;
  metrics: { host: string; port: number } | false;
  probes: { host: string; port: number } | false;
  durations: Record<'lease' | 'renew' | 'retry' | 'poll' | 'resync', number>;
}

function oneOf<T extends string>(source: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${source} ${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
}

/** The operator's name in the API server's field managers and audit log (the User-Agent's first part). */
export const FIELD_MANAGER = 'stack-operator';

/** Every flag checked before anything starts: a mistake is a UsageError (one line, exit 2). */
export function runSettings(argv: string[], env = process.env): RunSettings | 'help' | 'version' {
  const { values: parsed, from } = parseFlags(argv, FLAGS, HELP, env);
  if (parsed.help) return 'help';
  if (parsed.version) return 'version';
  const values = Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const workers = Number(values['max-concurrent-reconciles']);
  if (!/^\d+$/.test(values['max-concurrent-reconciles'] ?? '') || workers < 1) {
    throw new UsageError(`${from['max-concurrent-reconciles']} ${JSON.stringify(values['max-concurrent-reconciles'])}: expected a positive integer`);
  }
  oneOf(from['log-level'] ?? '', values['log-level'] ?? '', LOG_LEVELS);
  const rate = (flag: string): number => {
    const v = values[flag] ?? '';
    if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${from[flag] ?? flag} ${JSON.stringify(v)}: expected a number >= 0`);
    return Number(v);
  };
  const d = (flag: string) => durationFlag(from[flag] ?? flag, values[flag] ?? '');
  const [lease, renew, retry] = [d('leader-election-lease-duration'), d('leader-election-renew-deadline'), d('leader-election-retry-period')];
  // The elector checks the same when the manager starts, too late for a usage error (src/runtime/leader-election.ts).
  if (parsed['leader-elect'] === true && !(lease > renew && renew > 1.2 * retry)) {
    throw new UsageError(`leader election: need lease duration (${lease} ms) > renew deadline (${renew} ms) > 1.2 x retry period (${retry} ms)`);
  }
  return {
    values,
    leaderElect: parsed['leader-elect'] === true,
    workers,
    kubeApi: { qps: rate('kube-api-qps'), burst: rate('kube-api-burst') },
    logFormat: oneOf(from['log-format'] ?? '', values['log-format'] ?? '', LOG_FORMATS),
    metrics: bindAddress(values['metrics-bind-address'] ?? '', from['metrics-bind-address'] ?? ''),
    probes: bindAddress(values['health-probe-bind-address'] ?? '', from['health-probe-bind-address'] ?? ''),
    durations: {
      lease,
      renew,
      retry,
      poll: d('poll-interval'),
      resync: d('resync-interval'),
    },
  };
}

/**
 * client-node's loadFromDefault() order (--kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster), but
 * in a pod the in-cluster connection is ours and client-node is not loaded at all: importing it
 * costs about 80 MiB of RSS (docs/benchmarks.md, memory). STACK_OPERATOR_SERVICEACCOUNT_DIR moves
 * the service account directory, to run the in-cluster path outside a pod (the benchmark does).
 */
async function loadConnection(path: string | undefined, env = process.env): Promise<KubeConfig | ClusterConnection> {
  const saDir = env.STACK_OPERATOR_SERVICEACCOUNT_DIR || SERVICE_ACCOUNT_DIR;
  if (!path && !env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && inClusterAvailable(env, saDir)) {
    try {
      return inClusterConnection(env, saDir);
    } catch (err) {
      throw new UsageError(`in-cluster config: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`kubeconfig ${path ?? '(default)'}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return kc;
}

function newManager(s: RunSettings, kc: KubeConfig | ClusterConnection, log: Logger, identity: string): Manager {
  const leaderElection = s.leaderElect
    ? {
        name: s.values['leader-election-id'] ?? 'stack-operator',
        namespace: s.values['leader-election-namespace'] ?? 'default',
        identity,
        leaseDurationMs: s.durations.lease,
        renewDeadlineMs: s.durations.renew,
        retryPeriodMs: s.durations.retry,
      }
    : (false as const);
  // The field manager of every write the operator makes, as kubectl shows it (--show-managed-fields).
  const userAgent = `${FIELD_MANAGER}/${packageVersion()} (${process.platform}/${process.arch}) node/${process.versions.node}`;
  return new Manager({ kubeConfig: kc, log, metricsPrefix: 'stack_operator', kubeApi: { ...s.kubeApi, userAgent }, metrics: s.metrics, probes: s.probes, leaderElection });
}

export async function runOperator(argv: string[]): Promise<number> {
  const s = runSettings(argv);
  if (s === 'help' || s === 'version') {
    console.log(s === 'help' ? HELP : `stack-operator ${packageVersion()}`);
    return 0;
  }
  const kc = await loadConnection(s.values.kubeconfig);
  const log = cliLogger({ level: s.values['log-level'] ?? 'info', format: s.logFormat, name: 'stack-operator' });
  // process_* and nodejs_* (RSS, heap, event-loop lag) on /metrics; once per process (tests call runOperator again).
  if (!register.getSingleMetric('nodejs_heap_size_used_bytes')) collectDefaultMetrics();
  const identity = `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
  const manager = newManager(s, kc, log, identity);
  const namespaces = s.values.namespaces ?? '';
  const watched = namespaces ? namespaces.split(',').map((n) => n.trim()).filter(Boolean) : [];
  const operator = buildOperator(manager, {
    namespaces: watched,
    ...(s.values['label-selector'] ? { labelSelector: s.values['label-selector'] } : {}),
    maxConcurrentReconciles: s.workers,
    pollIntervalMs: s.durations.poll,
    resyncIntervalMs: s.durations.resync,
    instance: identity,
    ...(process.env.STACK_OPERATOR_CRASH_AT ? { crashPoint: crashSwitch(process.env.STACK_OPERATOR_CRASH_AT) } : {}),
  });
  manager.handleSignals();
  log.info({ identity, version: packageVersion(), namespaces: watched, workers: s.workers, leaderElection: s.leaderElect }, 'stack-operator starting');
  try {
    await manager.start();
  } catch (err) {
    await operator.close();
    if (err instanceof LeaderElectionLostError) {
      log.error('leadership lost; exiting so the process restarts as a follower');
      return 1;
    }
    throw err;
  }
  await operator.close();
  log.info('stack-operator stopped');
  return 0;
}
