// Smoke test of `npm run dev` (src/cli/dev.ts) against the shared test cluster (--kubeconfig, so no
// second control plane): it installs the CRDs and the admission policy, starts the emulator on
// 127.0.0.1:18080 (the samples point there) and the operator (metrics and probes on the free loopback ports
// the test passes with --metrics-bind-address / --health-probe-bind-address),
// applies config/samples to namespace default and prints what to try. The seven sample Stacks (one per
// provider type, and the layered chain of docs/dependencies.md) must become Ready; the test then deletes them while dev still runs (the operator releases the
// finalizers), stops dev with SIGINT and removes the sample providers and Secrets.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl, testKubeconfigPath } from '../../env/kube.ts';
import { k8sBinDir, repoRoot } from '../../../src/devenv/paths.ts';
import { NODE, type StackLike, isReady, waitFor } from './helpers.ts';

const SAMPLES = ['demo-heat', 'demo-rfs', 'demo-ros', 'demo-cf', 'layered-net', 'layered-db', 'layered-app'];
const EMULATOR_PORT = 18080;

/** A loopback port nothing listens on right now (for the operator's metrics and probes). */
async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

let child: ChildProcess | undefined;
let output = '';

async function stacks(): Promise<(StackLike & { metadata: { name: string } })[]> {
  const r = await kubectl(['get', 'stacks', '-n', 'default', '-o', 'json']);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout) as { items: (StackLike & { metadata: { name: string } })[] }).items.filter((s) => SAMPLES.includes(s.metadata.name));
}

afterAll(async () => {
  // Whatever happened: no sample Stack left behind with a finalizer nobody will release.
  for (const s of await stacks()) {
    await kubectl(['patch', 'stack', s.metadata.name, '-n', 'default', '--type=merge', '-p', '{"metadata":{"finalizers":null},"spec":{"deletionProtection":false}}']);
    await kubectl(['delete', 'stack', s.metadata.name, '-n', 'default', '--ignore-not-found', '--wait=false']);
  }
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
  }
  await kubectl(['delete', '-n', 'default', '-f', join(repoRoot, 'config', 'samples', 'providers.yaml'), '-f', join(repoRoot, 'config', 'samples', 'credentials.yaml'), '--ignore-not-found', '--wait=false']);
});

describe('npm run dev (src/cli/dev.ts) against the shared cluster', () => {
  it('prints the instructions, the seven samples become Ready, they delete cleanly, Ctrl-C tears down with exit 0', async () => {
    if (!(await portFree(EMULATOR_PORT))) {
      throw new Error(`port ${EMULATOR_PORT} on 127.0.0.1 is in use: dev binds the emulator there (the samples point there). Stop whatever holds it (ss -ltnp) and rerun.`);
    }
    const [metricsPort, probePort] = [await freePort(), await freePort()];
    const PORTS = [EMULATOR_PORT, metricsPort, probePort];
    const kubeconfig = testKubeconfigPath();
    // With --kubeconfig, dev calls `kubectl` from the PATH: put the test build's kubectl first.
    child = spawn(NODE, [join(repoRoot, 'src', 'cli', 'main.ts'), 'dev', '--kubeconfig', kubeconfig, '--exit-after', '150',
      '--metrics-bind-address', `127.0.0.1:${metricsPort}`, '--health-probe-bind-address', `127.0.0.1:${probePort}`], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${k8sBinDir()}${delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    const fail = (what: string) => (err: unknown) => {
      throw new Error(`${what}: ${String(err)}\ndev output:\n${output.slice(-5000)}`);
    };

    await waitFor('the printed instructions', async () => output.includes('Ctrl-C stops everything.') || child?.exitCode !== null, 120_000).catch(fail('instructions'));
    expect(child.exitCode, output.slice(-3000)).toBeNull();
    expect(output).toContain('stack-operator is running locally');
    expect(output).toContain(`export KUBECONFIG=${kubeconfig}`);
    expect(output).toContain('kubectl wait --for=condition=Ready stack --all');
    expect(output).toContain('kubectl delete stack demo-rfs');
    expect(output).toContain(`metrics on http://127.0.0.1:${metricsPort}/metrics, probes on http://127.0.0.1:${probePort}/readyz`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('controller_runtime_reconcile_total');

    await waitFor('the sample Stacks Ready', async () => {
      const all = await stacks();
      return all.length === SAMPLES.length && all.every(isReady);
    }, 90_000).catch(async (err: unknown) => {
      const r = await kubectl(['get', 'stacks', '-n', 'default', '-o', 'wide']);
      fail(`sample Stacks not Ready\n${r.stdout}`)(err);
    });
    const cm = await kubectl(['get', 'configmap', 'demo-heat-outputs', '-n', 'default', '-o', 'jsonpath={.data.message}']);
    expect(cm.stdout).toBeTruthy();

    // demo-rfs is protected: the admission policy dev installed denies the delete until it is unprotected.
    const denied = await kubectl(['delete', 'stack', 'demo-rfs', '-n', 'default', '--wait=false']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/deletionProtection/);
    // Exactly what dev prints: unprotect, then delete at once. RFS's own protection flag was set by the
    // create (mirrored from the spec): the operator lifts it and the cloud stack goes too.
    const unprotect = await kubectl(['patch', 'stack', 'demo-rfs', '-n', 'default', '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']);
    expect(unprotect.code, unprotect.stderr).toBe(0);
    const del = await kubectl(['delete', 'stack', ...SAMPLES, '-n', 'default', '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    await waitFor('the sample Stacks deleted by the operator', async () => (await stacks()).length === 0, 90_000).catch(async (err: unknown) => {
      const r = await kubectl(['get', 'stacks', '-n', 'default', '-o', 'yaml']);
      fail(`sample Stacks not deleted\n${r.stdout}`)(err);
    });

    // The emulated clouds hold none of the samples' stacks any more (demo-rfs's protection was lifted, not kept).
    const left = (await (await fetch(`http://127.0.0.1:${EMULATOR_PORT}/_emulator/stacks`)).json()) as { stacks: { name: string }[] };
    expect(left.stacks.map((x) => x.name).filter((n) => SAMPLES.includes(n))).toEqual([]);

    child.kill('SIGINT');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 45_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toContain('[dev] stopping');
    for (const p of PORTS) expect(await portFree(p), `port ${p} released`).toBe(true);
  });
});
