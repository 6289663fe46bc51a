// `stack-operator run`: the operator process.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, register } from 'prom-client';
import { createLogger } from '../runtime/logging.ts';
import { LeaderElectionLostError, Manager } from '../runtime/manager.ts';
import { buildOperator } from '../stacks/operator.ts';
import type { CrashPoint } from '../stacks/context.ts';
import { parseDuration } from '../stacks/resolve.ts';

const HELP = `usage: stack-operator run [flags]

  --kubeconfig PATH                 kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --namespaces a,b                  watch only these namespaces (default: all)
  --label-selector SEL              reconcile only Stacks matching SEL (sharding)
  --max-concurrent-reconciles N     Stack workers (default 10)
  --leader-elect                    use a Lease so only one replica reconciles (default off)
  --leader-election-id NAME         Lease name (default stack-operator)
  --leader-election-namespace NS    Lease namespace (default: $POD_NAMESPACE, else default)
  --leader-election-lease-duration DUR  how long a standby waits before taking over (default 15s)
  --leader-election-renew-deadline DUR  the leader gives up if it cannot renew within this (default 10s)
  --leader-election-retry-period DUR    interval of acquire / renew attempts (default 2s)
  --metrics-bind-address HOST:PORT  /metrics (default :8080; 0 disables)
  --health-probe-bind-address H:P   /healthz and /readyz (default :8081; 0 disables)
  --poll-interval DUR               default provider poll interval while an operation runs (5s)
  --resync-interval DUR             default resync interval at rest (10m)
  --log-level LEVEL                 trace|debug|info|warn|error (default info)`;

function bindAddress(text: string): { host: string; port: number } | false {
  if (text === '0' || text === '') return false;
  const i = text.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : text.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(text.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid bind address ${text}`);
  return { host, port };
}

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

export async function runOperator(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string', default: '' },
      'label-selector': { type: 'string', default: '' },
      'max-concurrent-reconciles': { type: 'string', default: '10' },
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-id': { type: 'string', default: 'stack-operator' },
      'leader-election-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'default' },
      'leader-election-lease-duration': { type: 'string', default: '15s' },
      'leader-election-renew-deadline': { type: 'string', default: '10s' },
      'leader-election-retry-period': { type: 'string', default: '2s' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'health-probe-bind-address': { type: 'string', default: ':8081' },
      'poll-interval': { type: 'string', default: '5s' },
      'resync-interval': { type: 'string', default: '10m' },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const log = createLogger({ level: values['log-level'], name: 'stack-operator' });
  // process_* and nodejs_* (RSS, heap, event-loop lag) on /metrics; once per process (tests call runOperator again).
  if (!register.getSingleMetric('nodejs_heap_size_used_bytes')) collectDefaultMetrics();
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();

  const identity = `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
  const workers = Number(values['max-concurrent-reconciles']);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--max-concurrent-reconciles must be a positive integer');
  const manager = new Manager({
    kubeConfig: kc,
    log,
    metricsPrefix: 'stack_operator',
    metrics: bindAddress(values['metrics-bind-address']),
    probes: bindAddress(values['health-probe-bind-address']),
    leaderElection: values['leader-elect']
      ? {
          name: values['leader-election-id'],
          namespace: values['leader-election-namespace'],
          identity,
          // Validated by the elector: leaseDuration > renewDeadline > 1.2 x retryPeriod.
          leaseDurationMs: parseDuration(values['leader-election-lease-duration'], 15_000),
          renewDeadlineMs: parseDuration(values['leader-election-renew-deadline'], 10_000),
          retryPeriodMs: parseDuration(values['leader-election-retry-period'], 2_000),
        }
      : false,
  });
  const operator = buildOperator(manager, {
    namespaces: values.namespaces ? values.namespaces.split(',').map((s) => s.trim()).filter(Boolean) : [],
    ...(values['label-selector'] ? { labelSelector: values['label-selector'] } : {}),
    maxConcurrentReconciles: workers,
    pollIntervalMs: parseDuration(values['poll-interval'], 5_000),
    resyncIntervalMs: parseDuration(values['resync-interval'], 600_000),
    instance: identity,
    ...(process.env.STACK_OPERATOR_CRASH_AT ? { crashPoint: crashSwitch(process.env.STACK_OPERATOR_CRASH_AT) } : {}),
  });
  manager.handleSignals();
  log.info({ identity, workers, leaderElection: values['leader-elect'] }, 'stack-operator starting');
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
