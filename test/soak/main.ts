// `npm run soak [-- --minutes N] [-- --seed S]`: a bounded soak of the operator (docs/reliability.md §Soak).
// Its own control plane + the emulator + the operator as a child process; for a fixed time it makes
// random spec edits, creates and deletes Stacks, SIGKILLs and restarts the operator and injects
// provider faults (5xx, 429, dropped connections). Then faults stop and the oracle checks, after a
// bounded wait: every Stack Ready at its current generation with the cloud stack matching its spec,
// every deleted Stack gone with its cloud stack deleted, no leaked cloud stack, no duplicate mutation.
// Prints the verdict and the counts; exits 1 when the oracle fails.
import { parseArgs } from 'node:util';
import { startControlPlane } from '../../src/devenv/control-plane.ts';
import { hot, isReady, stackManifest, templateFor } from '../integration/stacks/harness.ts';
import { type RelEnv, sleep, startRelEnv } from '../integration/reliability/env.ts';
import { type OperatorProcess, startOperatorProcess } from '../integration/reliability/operator-process.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { minutes: { type: 'string', default: '10' }, seed: { type: 'string' }, 'max-stacks': { type: 'string', default: '8' } },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
const maxStacks = Number(values['max-stacks']);

// A small deterministic PRNG (mulberry32), so a failing run can be repeated with --seed.
let seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const firstSeed = seed;
function rand(): number {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

type Kind = 'heat' | 'rfs';
interface Tracked {
  name: string;
  kind: Kind;
  message: string;
  /** Spec edits that changed the desired state (each allows at most one accepted update and one cancel). */
  edits: number;
  deleted: boolean;
}

const log = (msg: string): void => {
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

function manifest(t: Tracked) {
  const waits = { create: 20, update: 30, delete: 10 };
  return stackManifest(t.name, t.kind, {
    template: { inline: t.kind === 'heat' ? hot('soak', waits) : templateFor('rfs', 'soak', waits) },
    parameters: { message: t.message },
  });
}

async function main(): Promise<number> {
  const t0 = Date.now();
  log(`starting: ${minutes} min, seed ${firstSeed}, at most ${maxStacks} Stacks`);
  const cp = await startControlPlane();
  let env: RelEnv | undefined;
  let op: OperatorProcess | undefined;
  const stats = { edits: 0, creates: 0, deletes: 0, kills: 0, faults: 0 };
  try {
    env = await startRelEnv({ kubeconfig: cp.kubeconfigPath, providers: ['heat', 'rfs'], prefix: 'soak', emulator: { operationSpeed: 0.02 } });
    const e = env;
    const start = (): OperatorProcess => startOperatorProcess({ kubeconfig: cp.kubeconfigPath, namespaces: [e.ns], logLevel: 'warn' });
    op = start();
    const stacks: Tracked[] = [];
    let serial = 0;
    const live = () => stacks.filter((s) => !s.deleted);
    const end = Date.now() + minutes * 60_000;
    let lastReport = Date.now();

    while (Date.now() < end) {
      const r = rand();
      if (op && !op.alive) {
        log(`operator exited on its own (${JSON.stringify(await op.exited)}); last logs:\n${op.logs().slice(-2000)}`);
        return 1;
      }
      if (r < 0.2 && live().length < maxStacks) {
        const t: Tracked = { name: `s${++serial}`, kind: rand() < 0.6 ? 'heat' : 'rfs', message: 'm0', edits: 0, deleted: false };
        stacks.push(t);
        await e.apply(manifest(t));
        stats.creates++;
      } else if (r < 0.55 && live().length > 0) {
        const t = pick(live());
        t.message = `m${Math.floor(rand() * 1e6)}`;
        t.edits++;
        await e.apply(manifest(t));
        stats.edits++;
      } else if (r < 0.65 && live().length > 2) {
        const t = pick(live());
        t.deleted = true;
        await e.kubectl(['delete', 'stack', t.name, '-n', e.ns, '--wait=false']);
        stats.deletes++;
      } else if (r < 0.8) {
        await op?.kill();
        stats.kills++;
        await sleep(Math.floor(rand() * 1500));
        op = start();
      } else {
        const heatOps = ['create', 'update', 'delete', 'get', 'cancel'] as const;
        const rfsOps = ['CreateStack', 'DeployStack', 'DeleteStack', 'GetStackMetadata', 'ListStackOutputs'] as const;
        const svc = rand() < 0.6 ? 'heat' : 'rfs';
        const kind = pick(['error', 'error', 'drop'] as const);
        e.emu.control.addFault({
          service: svc,
          operation: svc === 'heat' ? pick(heatOps) : pick(rfsOps),
          kind,
          ...(kind === 'error' ? { status: pick([500, 502, 503, 429]) } : {}),
          times: 1 + Math.floor(rand() * 3),
        });
        // Keystone too, now and then (token refresh under failure).
        if (rand() < 0.1) e.emu.control.addFault({ service: 'keystone', operation: 'auth', kind: 'error', status: 503, times: 1 });
        stats.faults++;
      }
      if (Date.now() - lastReport > 60_000) {
        lastReport = Date.now();
        log(`progress: ${JSON.stringify(stats)}, ${live().length} live Stacks`);
      }
      await sleep(500 + Math.floor(rand() * 1500));
    }

    // Faults stop; the operator runs; wait (bounded) for the oracle's steady state.
    e.emu.control.clearFaults();
    if (!op?.alive) op = start();
    log(`chaos over after ${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify(stats)}; waiting for convergence`);
    const deadline = Date.now() + 180_000;
    let problems: string[] = [];
    while (Date.now() < deadline) {
      problems = [];
      for (const t of stacks) {
        const s = await e.getStack(t.name);
        if (t.deleted) {
          if (s) problems.push(`${t.name}: still present after delete (${s.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? '-'})`);
        } else {
          // Converged: Ready at the current generation, that generation applied, the cloud stack has its parameter.
          const cloud = s?.status?.stackId ? e.emu.engine.get(s.status.stackId) : undefined;
          const ok =
            s !== undefined &&
            isReady(s) &&
            s.status?.lastAppliedGeneration === s.metadata.generation &&
            cloud !== undefined &&
            !cloud.deleted &&
            cloud.params.message === t.message;
          if (!ok) {
            problems.push(
              `${t.name}: not converged (${JSON.stringify({ gen: s?.metadata.generation, observed: s?.status?.observedGeneration, applied: s?.status?.lastAppliedGeneration, cloud: cloud ? { params: cloud.params, status: `${cloud.action}_${cloud.status}` } : null, ready: s?.status?.conditions?.find((c) => c.type === 'Ready') })})`,
            );
          }
        }
      }
      if (problems.length === 0) break;
      await sleep(1000);
    }

    // Leaks: a live cloud stack that no live Stack claims, or one whose Stack was deleted.
    const claimed = new Set<string>();
    for (const t of stacks.filter((x) => !x.deleted)) {
      const s = await e.getStack(t.name);
      if (s?.status?.stackId) claimed.add(s.status.stackId);
    }
    const cloud = e.emu.engine.list().filter((s) => !s.deleted);
    const leaked = cloud.filter((s) => !claimed.has(s.id)).map((s) => `${s.provider}/${s.name} (${s.id}, ${s.action}_${s.status})`);

    // Duplicates: accepted mutations beyond what the plan allows for the changes made.
    const duplicates: string[] = [];
    let mutations = 0;
    for (const t of stacks) {
      const c = e.counts(t.kind, t.name);
      mutations += c.create + c.update + c.delete + c.cancel;
      const allowed = { create: 1, update: t.edits, cancel: t.edits, delete: t.deleted ? 1 : 0 };
      for (const k of ['create', 'update', 'cancel', 'delete'] as const) {
        if (c[k] > allowed[k]) duplicates.push(`${t.name}: ${c[k]} ${k} (allowed ${allowed[k]})`);
      }
    }

    const ok = problems.length === 0 && leaked.length === 0 && duplicates.length === 0;
    const summary = {
      verdict: ok ? 'PASS' : 'FAIL',
      minutes,
      seed: firstSeed,
      stacks: stacks.length,
      live: live().length,
      ...stats,
      providerMutations: mutations,
      leakedStacks: leaked.length,
      duplicateMutations: duplicates.length,
      notConverged: problems.length,
      elapsedSeconds: Math.round((Date.now() - t0) / 1000),
    };
    for (const l of leaked) log(`LEAK ${l}`);
    for (const d of duplicates) log(`DUPLICATE ${d}`);
    for (const p of problems) log(`NOT CONVERGED ${p}`);
    log(`oracle: ${ok ? 'PASS' : 'FAIL'}`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!ok && op) process.stdout.write(`operator logs (tail):\n${op.logs().slice(-4000)}\n`);
    return ok ? 0 : 1;
  } finally {
    await op?.kill();
    await env?.emu.close();
    await cp.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
