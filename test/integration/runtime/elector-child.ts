// A child process running one LeaderElector (for the SIGKILL takeover test).
// argv: kubeconfigPath namespace leaseName identity leaseMs renewMs retryMs
// Prints "LEADING" when it leads and "STOPPED <reason>" when it stops.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { LeaderElector } from '../../../src/runtime/leader-election.ts';

const [kubeconfig, namespace, name, identity, leaseMs, renewMs, retryMs] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig ?? '');
const elector = new LeaderElector({
  client: new KubeClient(kc, { timeoutMs: 5_000 }),
  namespace: namespace ?? 'default',
  name: name ?? 'lock',
  identity: identity ?? 'child',
  leaseDurationMs: Number(leaseMs),
  renewDeadlineMs: Number(renewMs),
  retryPeriodMs: Number(retryMs),
  onStartedLeading: () => {
    process.stdout.write('LEADING\n');
  },
  onStoppedLeading: (reason) => {
    process.stdout.write(`STOPPED ${reason}\n`);
  },
});
const abort = new AbortController();
process.on('SIGTERM', () => abort.abort());
// Keep the event loop alive while electing (all runtime timers are unref'd).
const keepAlive = setInterval(() => {}, 60_000);
void elector.run(abort.signal).finally(() => clearInterval(keepAlive));
