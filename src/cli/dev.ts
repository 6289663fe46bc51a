// `stack-operator dev` (npm run dev): a complete local environment in one command. It builds (or
// reuses) the real kube-apiserver + etcd, starts them on loopback, starts the provider emulator on
// 127.0.0.1:18080, installs the CRDs and the deletion-protection admission policy, runs the operator
// in this process, applies one sample Stack per provider type, prints what to try, and tears it all
// down on Ctrl-C. With --kubeconfig it uses that cluster instead of starting one.
//
// The local control plane comes from test/env (the same harness the integration tests use), so this
// command needs the repository checkout; the container image runs `stack-operator run` only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startEmulator } from '../emulator/index.ts';
import { createLogger } from '../runtime/logging.ts';
import { Manager } from '../runtime/manager.ts';
import { buildOperator } from '../stacks/operator.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

interface TestEnvControlPlane {
  startControlPlane: (opts: { controllerManager: boolean }) => Promise<{ stop(): Promise<void>; kubeconfigPath: string; timings: { totalMs: number } }>;
}

/** test/env is loaded by URL, not by a literal import, so `npm run build` (src only) does not follow it. */
async function testEnv<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(REPO, 'test', 'env', file)).href)) as T;
}

const HELP = `usage: npm run dev [-- flags]

  --kubeconfig PATH   use this cluster instead of starting a local control plane
  --port PORT         emulator port (default 18080; the samples point there)
  --no-samples        do not apply config/samples
  --exit-after SEC    stop by itself after SEC seconds (smoke tests; default: run until Ctrl-C)
  --log-level LEVEL   operator log level (default info)`;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const say = (msg: string): void => void process.stderr.write(`[dev] ${msg}\n`);
  const cleanups: (() => Promise<void>)[] = [];
  const teardown = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => say(`cleanup failed: ${String(e)}`));
  };

  try {
    let kubeconfig = values.kubeconfig;
    // The kubectl built with the control plane when there is one (exact version match), else PATH's.
    const { kubectlPath } = await testEnv<{ kubectlPath: () => string }>('paths.ts');
    const kubectl = existsSync(kubectlPath()) ? kubectlPath() : 'kubectl';
    if (!kubeconfig) {
      say('building (or reusing) kube-apiserver, etcd and kubectl: the first run compiles them from the Go module proxy');
      const build = spawn('bash', [join(REPO, 'test/env/build-k8s.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
      const code = await new Promise<number>((r) => build.once('close', (c) => r(c ?? 1)));
      if (code !== 0) throw new Error('test/env/build-k8s.sh failed');
      const { startControlPlane } = await testEnv<TestEnvControlPlane>('control-plane.ts');
      say('starting etcd + kube-apiserver + kube-controller-manager on loopback');
      const cp = await startControlPlane({ controllerManager: true });
      cleanups.push(() => cp.stop());
      kubeconfig = cp.kubeconfigPath;
      say(`control plane ready in ${cp.timings.totalMs} ms`);
    }
    const env = { ...process.env, KUBECONFIG: kubeconfig };

    const emu = await startEmulator({ port: Number(values.port), operationSpeed: 1 });
    cleanups.push(() => emu.close());
    say(`provider emulator on ${emu.url}`);

    for (const dir of ['crds', 'config/admission']) {
      const r = run(kubectl, ['apply', '--server-side', '--force-conflicts', '-k', join(REPO, dir)], env);
      if (r.code !== 0) throw new Error(`kubectl apply -k ${dir} failed:\n${r.out}`);
    }
    run(kubectl, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/stacks.stackoperator.dev'], env);
    say('CRDs and the deletion-protection admission policy installed');

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const log = createLogger({ level: values['log-level'], name: 'stack-operator' });
    const manager = new Manager({ kubeConfig: kc, log, metrics: { port: 8080, host: '127.0.0.1' }, probes: { port: 8081, host: '127.0.0.1' } });
    const operator = buildOperator(manager, { pollIntervalMs: 2000 });
    const running = manager.start();
    cleanups.push(async () => {
      await manager.stop();
      await running.catch(() => undefined);
      await operator.close();
    });
    say('operator running (metrics on http://127.0.0.1:8080/metrics, probes on :8081)');

    if (!values['no-samples']) {
      const r = run(kubectl, ['apply', '-n', 'default', '-k', join(REPO, 'config/samples')], env);
      if (r.code !== 0) throw new Error(`applying the samples failed:\n${r.out}`);
      say('applied config/samples: one Stack per provider type and a layered chain (docs/dependencies.md) in namespace default');
    }

    console.log(`
stack-operator is running locally. In another terminal:

  export KUBECONFIG=${kubeconfig}${kubectl === 'kubectl' ? '' : `
  alias kubectl=${kubectl}`}
  kubectl get stacks -w                                   # Status, Ready, Reason per Stack
  kubectl wait --for=condition=Ready stack --all --timeout=120s
  kubectl describe stack demo-heat                        # conditions and events
  kubectl get configmap demo-heat-outputs -o yaml         # outputs written by the operator
  kubectl get stack layered-net layered-db layered-app    # a chain: each layer waits for the one below
  kubectl patch stack demo-heat --type=merge -p '{"spec":{"parameters":{"message":"changed"}}}'
  kubectl annotate stack demo-heat stackoperator.dev/cancel-update=$(date +%s) --overwrite
  kubectl delete stack demo-rfs                           # denied: deletionProtection is on
  kubectl patch stack demo-rfs --type=merge -p '{"spec":{"deletionProtection":false}}' && kubectl delete stack demo-rfs
  curl -s ${emu.url}/_emulator/stacks                     # what the emulated clouds hold

Ctrl-C stops everything.`);

    await new Promise<void>((resolveWait) => {
      process.once('SIGINT', () => resolveWait());
      process.once('SIGTERM', () => resolveWait());
      if (values['exit-after']) setTimeout(resolveWait, Number(values['exit-after']) * 1000).unref();
    });
    say('stopping');
    await teardown();
    return 0;
  } catch (err) {
    await teardown();
    throw err;
  }
}
