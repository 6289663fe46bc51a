// `stack-operator dev` (npm run dev): a complete local environment in one command. It builds (or
// reuses) the real kube-apiserver + etcd, starts them on loopback, starts the provider emulator on
// 127.0.0.1:18080, installs the CRDs and the deletion-protection admission policy, runs the operator
// in this process, applies one sample Stack per provider type, prints what to try, and tears it all
// down on Ctrl-C. With --kubeconfig it uses that cluster instead of starting one.
//
// The local control plane comes from src/devenv (the integration tests reuse the same code). The
// command needs the repository checkout (crds/, config/, the build script); the container image runs
// `stack-operator run` only.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from '../devenv/control-plane.ts';
import { installCrds } from '../devenv/crds.ts';
import { runKubectl } from '../devenv/kubectl.ts';
import { buildScript, kubectlPath, repoRoot } from '../devenv/paths.ts';
import { startEmulator } from '../emulator/index.ts';
import { bindAddress } from './flags.ts';
import { cliLogger } from './log-format.ts';
import { Manager } from '../runtime/manager.ts';
import { buildOperator } from '../stacks/operator.ts';

type Cleanup = () => Promise<void>;
type Say = (msg: string) => void;

const HELP = `usage: npm run dev [-- flags]

  --kubeconfig PATH   use this cluster instead of starting a local control plane
  --port PORT         emulator port (default 18080; the samples point there)
  --metrics-bind-address ADDR       operator metrics (default 127.0.0.1:8080; :0 picks a free port, 0 turns it off)
  --health-probe-bind-address ADDR  operator probes (default 127.0.0.1:8081; same forms)
  --no-samples        do not apply config/samples
  --exit-after SEC    stop by itself after SEC seconds (smoke tests; default: run until Ctrl-C)
  --log-level LEVEL   operator log level (default info)`;

/** Builds (or reuses) the binaries and starts a control plane; returns its kubeconfig. */
async function startLocalPlane(say: Say, cleanups: Cleanup[]): Promise<string> {
  say('building (or reusing) kube-apiserver, etcd and kubectl: the first run compiles them from the Go module proxy');
  const build = spawn('bash', [buildScript, 'control-plane'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number>((r) => build.once('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`${buildScript} failed`);
  say('starting etcd + kube-apiserver + kube-controller-manager on loopback');
  const cp = await startControlPlane({ controllerManager: true });
  cleanups.push(() => cp.stop());
  say(`control plane ready in ${cp.timings.totalMs} ms`);
  return cp.kubeconfigPath;
}

async function applyKustomization(kubeconfig: string, kubectl: string, args: string[], what: string): Promise<void> {
  const r = await runKubectl(kubeconfig, ['apply', ...args], { bin: kubectl });
  if (r.code !== 0) throw new Error(`${what} failed:\n${r.stdout}${r.stderr}`);
}

type Bind = { host: string; port: number } | false;

/** Runs the operator in this process; its metrics and probes where the flags say (loopback by default). */
function startOperator(kubeconfig: string, logLevel: string, binds: { metrics: Bind; probes: Bind }, cleanups: Cleanup[]): { manager: Manager; running: Promise<void> } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  // Readable text by default for a person at a terminal (the operator's default is JSON).
  const log = cliLogger({ level: logLevel, format: 'text', name: 'stack-operator' });
  const manager = new Manager({
    kubeConfig: kc,
    log,
    metrics: binds.metrics,
    probes: binds.probes,
    metricsPrefix: 'stack_operator',
  });
  const operator = buildOperator(manager, { pollIntervalMs: 2000 });
  const running = manager.start();
  cleanups.push(async () => {
    await manager.stop();
    await running.catch(() => undefined);
    await operator.close();
  });
  return { manager, running };
}

/** Where the manager's servers listen, once they do (metrics first when both run). */
async function listeningOn(manager: Manager, binds: { metrics: Bind; probes: Bind }): Promise<string> {
  const want = [binds.metrics, binds.probes].filter((b) => b !== false).length;
  for (let i = 0; i < 100 && manager.ports.filter((p) => p > 0).length < want; i++) await new Promise((r) => setTimeout(r, 50));
  const [first, second] = manager.ports;
  const url = (b: Bind, port: number | undefined) => (b === false ? 'off' : `http://${b.host}:${port ?? '?'}`);
  if (binds.metrics === false) return `metrics off, probes on ${url(binds.probes, first)}/readyz`;
  return `metrics on ${url(binds.metrics, first)}/metrics, probes on ${url(binds.probes, binds.probes === false ? undefined : (second ?? first))}/readyz`;
}

function instructions(kubeconfig: string, kubectl: string, emulatorUrl: string): string {
  return `
stack-operator is running locally. In another terminal:

  export KUBECONFIG=${kubeconfig}${kubectl === 'kubectl' ? '' : `
  alias kubectl=${kubectl}`}
  kubectl get stacks -w                                   # Status, Ready, Reason per Stack
  kubectl wait --for=condition=Ready stack --all --timeout=120s
  kubectl describe stack demo-heat                        # conditions and events
  kubectl get stack layered-net layered-db layered-app    # a chain: each layer waits for the one below
  kubectl get configmap demo-heat-outputs -o yaml         # outputs written by the operator
  kubectl patch stack demo-heat --type=merge -p '{"spec":{"parameters":{"message":"changed"}}}'
  kubectl annotate stack demo-heat stackoperator.dev/cancel-update=$(date +%s) --overwrite
  kubectl delete stack demo-rfs                           # denied: deletionProtection is on
  kubectl patch stack demo-rfs --type=merge -p '{"spec":{"deletionProtection":false}}' && kubectl delete stack demo-rfs
  curl -s ${emulatorUrl}/_emulator/stacks                     # what the emulated clouds hold

Ctrl-C stops everything.`;
}

function untilStopped(exitAfter: string | undefined): Promise<void> {
  return new Promise<void>((resolveWait) => {
    process.once('SIGINT', () => resolveWait());
    process.once('SIGTERM', () => resolveWait());
    if (exitAfter) setTimeout(resolveWait, Number(exitAfter) * 1000).unref();
  });
}

interface DevFlags {
  kubeconfig?: string;
  port: string;
  'no-samples': boolean;
  'exit-after'?: string;
  'log-level': string;
  'metrics-bind-address': string;
  'health-probe-bind-address': string;
}

async function startAll(values: DevFlags, say: Say, cleanups: Cleanup[]): Promise<void> {
  const kubeconfig = values.kubeconfig ?? (await startLocalPlane(say, cleanups));
  // The kubectl built with the control plane when there is one (exact version match), else PATH's.
  const kubectl = existsSync(kubectlPath()) ? kubectlPath() : 'kubectl';

  const emu = await startEmulator({ port: Number(values.port), operationSpeed: 1 });
  cleanups.push(() => emu.close());
  say(`provider emulator on ${emu.url}`);

  await installCrds(kubeconfig, { bin: kubectl });
  await applyKustomization(kubeconfig, kubectl, ['--server-side', '--force-conflicts', '-k', join(repoRoot, 'config/admission')], 'kubectl apply -k config/admission');
  say('CRDs and the deletion-protection admission policy installed');

  const binds = {
    metrics: bindAddress(values['metrics-bind-address'], '--metrics-bind-address'),
    probes: bindAddress(values['health-probe-bind-address'], '--health-probe-bind-address'),
  };
  const { manager, running } = startOperator(kubeconfig, values['log-level'], binds, cleanups);
  // A port in use fails the start (and dev, with the error), instead of an operator without its servers.
  const stoppedEarly = running.then(() => {
    throw new Error('the operator stopped while starting');
  });
  say(`operator running (${await Promise.race([listeningOn(manager, binds), stoppedEarly])})`);

  if (!values['no-samples']) {
    await applyKustomization(kubeconfig, kubectl, ['-n', 'default', '-k', join(repoRoot, 'config/samples')], 'applying the samples');
    say('applied config/samples: one Stack per provider type and a layered chain (docs/dependencies.md) in namespace default');
  }
  console.log(instructions(kubeconfig, kubectl, emu.url));
}

export async function runDev(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      port: { type: 'string', default: '18080' },
      'no-samples': { type: 'boolean', default: false },
      'exit-after': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'metrics-bind-address': { type: 'string', default: '127.0.0.1:8080' },
      'health-probe-bind-address': { type: 'string', default: '127.0.0.1:8081' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const say: Say = (msg) => void process.stderr.write(`[dev] ${msg}\n`);
  const cleanups: Cleanup[] = [];
  const teardown = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => say(`cleanup failed: ${String(e)}`));
  };
  try {
    await startAll(values, say, cleanups);
    await untilStopped(values['exit-after']);
    say('stopping');
    await teardown();
    return 0;
  } catch (err) {
    await teardown();
    throw err;
  }
}
