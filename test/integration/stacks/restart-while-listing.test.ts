// A restart reconciles Stacks as the Stack LIST arrives, page by page, and acts only on the complete
// cache (docs/stack-controller.md, "Restart"). The restarted operator's LIST is held after its first
// page, so "while listing" is a state the test holds, not a race it hopes to win.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { buildOperator } from '../../../src/stacks/operator.ts';
import { testKubeConfig } from '../../env/kube.ts';
import { HeldListClient, waitFor } from '../runtime/util.ts';
import { type OperatorEnv, hot, isReady, stackManifest, startOperatorEnv } from './harness.ts';

/** Heat calls per Stack name, in order, with whether the restarted operator's LIST was held then. */
const calls: { op: string; name: string; held: boolean }[] = [];
let held = false;
const emulatorLog = {
  debug(o: { service?: string; op?: string; path?: string }) {
    if (o.service !== 'heat' || !o.path?.includes('/stacks/')) return;
    const name = decodeURIComponent(o.path.split('/stacks/')[1]?.split('/')[0] ?? '');
    if (name) calls.push({ op: o.op ?? '', name, held });
  },
  info() {},
  warn() {},
  error() {},
  child() {
    return emulatorLog;
  },
};

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'], emulator: { logger: emulatorLog as never } });
});
afterAll(async () => env?.stop());

const rv = async (name: string): Promise<string | undefined> => (await env.getStack(name))?.metadata.resourceVersion;
const ops = (name: string, op: string, when?: boolean) => calls.filter((c) => c.name === name && c.op === op && (when === undefined || c.held === when)).length;

describe('restart: reconciling while the Stack LIST arrives', () => {
  it('reads the first page at once; a changed Stack and one that looks at another wait for the whole list; a quiet Stack is never written', async () => {
    // Listed in name order, three per page: a-, b-, c- on the first page; z-dep alone on the held second.
    const tpl = (v: string) => ({ template: { inline: hot(v) } });
    await env.apply(stackManifest('a-changed', 'heat', { ...tpl('a'), parameters: { message: 'one' } }));
    await env.apply(stackManifest('b-quiet', 'heat', tpl('b')));
    await env.apply(stackManifest('z-dep', 'heat', tpl('z')));
    await env.apply(stackManifest('c-dependent', 'heat', { ...tpl('c'), dependsOn: [{ name: 'z-dep' }] }));
    for (const n of ['a-changed', 'b-quiet', 'z-dep', 'c-dependent']) await env.waitStack(n, isReady, 'Ready', 60_000);

    await env.manager.stop();
    // A change made while no operator runs: the restarted one must update the cloud stack.
    await env.apply(stackManifest('a-changed', 'heat', { ...tpl('a'), parameters: { message: 'two' } }));
    const before = { a: await rv('a-changed'), b: await rv('b-quiet'), c: await rv('c-dependent') };

    const kc = testKubeConfig();
    const client = new HeldListClient(kc, 'stacks');
    const manager = new Manager({ kubeConfig: kc, client, log: silentLogger, metrics: false, probes: false });
    const operator = buildOperator(manager, {
      namespaces: [env.ns],
      pollIntervalMs: 200,
      readCacheMs: 0,
      stackListPageSize: 3,
      backoff: { baseMs: 100, capMs: 2000 },
      planner: { retryBaseMs: 300, retryCapMs: 2000, createVisibilityGraceMs: 2000, timeoutGraceMs: 0, recheckBaseMs: 500, recheckCapMs: 2000 },
    });
    held = true;
    const running = manager.start();
    running.catch(() => undefined);
    try {
      // The first page is reconciled while the second is held: its settled Stacks are read at the
      // provider; the changed one waits at once, unread (its reconcile writes for sure).
      await waitFor('provider reads of the first page during the LIST', () => ['b-quiet', 'c-dependent'].every((n) => ops(n, 'get', true) > 0), 20_000);
      await waitFor('the reconciles of the first page to finish', () => operator.stackController.activeWorkers === 0, 20_000);
      expect(operator.stacks.synced).toBe(false);
      expect(operator.stacks.size).toBe(3);
      // Nothing acted on the incomplete cache: no update, and no Stack written (c-dependent's
      // dependency is not listed yet; acting on that would flip it to WaitingForDependencies).
      expect(ops('a-changed', 'update')).toBe(0);
      expect(ops('a-changed', 'get', true)).toBe(0);
      expect(ops('z-dep', 'get', true)).toBe(0);
      expect({ a: await rv('a-changed'), b: await rv('b-quiet'), c: await rv('c-dependent') }).toEqual(before);

      held = false;
      client.release();
      const a = await env.waitStack('a-changed', (s) => isReady(s) && s.status?.outputs?.message === 'two', 'Ready with the change', 60_000);
      expect(a.metadata.generation).toBe(2);
      expect(ops('a-changed', 'update', false)).toBe(1);
      // The Stack that waited is planned again on the complete cache, and stays as it was.
      await waitFor('c-dependent read again after the LIST', () => ops('c-dependent', 'get', false) > 0, 20_000);
      await waitFor('z-dep read', () => ops('z-dep', 'get', false) > 0, 20_000);
      await waitFor('the reconciles after the LIST to finish', () => operator.stackController.activeWorkers === 0, 20_000);
      expect({ b: await rv('b-quiet'), c: await rv('c-dependent') }).toEqual({ b: before.b, c: before.c });
    } finally {
      client.release();
      await manager.stop();
      await running.catch(() => undefined);
      await operator.close();
    }
  });
});
