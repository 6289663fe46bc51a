// Lost replies (tenant-safety issue, item 8): the provider handled a mutation but the reply never
// arrived (the emulator's reset-after fault: the change takes effect, then the connection is reset).
// The operator must never send a second conflicting mutation: it keeps the operation record and
// decides from the provider's view. Also: a new stack that is not visible yet (hide-new) when the Stack
// is deleted is not leaked, and a provider clock 5 s behind the operator neither duplicates nor skips
// an update. The emulator's counts of accepted mutations are the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, type ProviderKind, isReady, stackManifest, startOperatorEnv, templateFor } from '../stacks/harness.ts';
import { mutations } from './util.ts';

const OPS: Record<'heat' | 'ros' | 'rfs', { service: 'heat' | 'ros' | 'rfs'; create: string; update: string; delete: string }> = {
  heat: { service: 'heat', create: 'create', update: 'update', delete: 'delete' },
  ros: { service: 'ros', create: 'CreateStack', update: 'UpdateStack', delete: 'DeleteStack' },
  rfs: { service: 'rfs', create: 'CreateStack', update: 'DeployStack', delete: 'DeleteStack' },
};

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat', 'ros', 'rfs'] });
});
afterAll(async () => env?.stop());

const spec = (kind: ProviderKind, message: string) => ({ template: { inline: templateFor(kind, 't') }, parameters: { message } });
const liveStacks = (provider: 'heat' | 'ros' | 'rfs', name: string) => env.emu.engine.list({ provider }).filter((s) => s.name === name);

describe.each(['heat', 'ros', 'rfs'] as const)('%s: a reply lost after the provider acted', (kind) => {
  it('lost create reply: one stack, one accepted create', async () => {
    const name = `lc-${kind}`;
    env.emu.control.addFault({ service: OPS[kind].service, operation: OPS[kind].create, kind: 'reset-after', times: 1 });
    await env.apply(stackManifest(name, kind, spec(kind, 'one')));
    await env.waitStack(name, isReady, 'Ready');
    expect(mutations(env, kind, name).create).toBe(1);
    expect(liveStacks(kind, name)).toHaveLength(1);
  });

  it('lost update reply: applied once, never twice', async () => {
    const name = `lu-${kind}`;
    await env.apply(stackManifest(name, kind, spec(kind, 'one')));
    await env.waitStack(name, isReady, 'Ready');
    // Services report update times in whole seconds: an update within the same second as the last
    // change cannot be told apart from none, and is sent again (docs/stack-controller.md "Lost
    // replies"). Real operations take longer than that; the emulated ones here do not.
    await new Promise((r) => setTimeout(r, 1100));
    env.emu.control.addFault({ service: OPS[kind].service, operation: OPS[kind].update, kind: 'reset-after', times: 1 });
    await env.apply(stackManifest(name, kind, spec(kind, 'two')));
    await env.waitStack(name, (s) => isReady(s) && s.status?.lastAppliedGeneration === s.metadata.generation, 'Ready at the new generation');
    await new Promise((r) => setTimeout(r, 1000));
    expect(mutations(env, kind, name)).toMatchObject({ create: 1, update: 1 });
    expect(liveStacks(kind, name)[0]?.params).toMatchObject({ message: 'two' });
  });

  it('lost delete reply: deleted once, nothing left', async () => {
    const name = `ld-${kind}`;
    await env.apply(stackManifest(name, kind, spec(kind, 'one')));
    await env.waitStack(name, isReady, 'Ready');
    env.emu.control.addFault({ service: OPS[kind].service, operation: OPS[kind].delete, kind: 'reset-after', times: 1 });
    const r = await kubectl(['delete', 'stack', name, '-n', env.ns, '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
    await env.waitGone(name);
    expect(liveStacks(kind, name)).toHaveLength(0);
  });
});

describe('eventual consistency and clocks', () => {
  it('a Stack deleted while its new stack is not yet visible does not leak the stack', async () => {
    const name = 'hidden';
    env.emu.control.addFault({ service: 'heat', operation: 'create', kind: 'hide-new', delayMs: 1500, times: 1 });
    await env.apply(stackManifest(name, 'heat', spec('heat', 'h')));
    await env.waitStack(name, (s) => s.status?.operation?.type === 'Create' && s.status.operation.issuedAt !== undefined, 'create accepted');
    const r = await kubectl(['delete', 'stack', name, '-n', env.ns, '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
    await env.waitGone(name);
    expect(mutations(env, 'heat', name)).toMatchObject({ create: 1, delete: 1 });
    expect(liveStacks('heat', name)).toHaveLength(0);
  });
});

describe('a provider clock 5 s behind the operator', () => {
  let skewed: OperatorEnv;
  beforeAll(async () => {
    skewed = await startOperatorEnv({ providers: ['heat'], emulator: { clockOffsetMs: -5000 } });
  });
  afterAll(async () => skewed?.stop());

  it('a lost update reply is neither sent again nor skipped', async () => {
    const name = 'skew';
    await skewed.apply(stackManifest(name, 'heat', spec('heat', 'one')));
    await skewed.waitStack(name, isReady, 'Ready');
    skewed.emu.control.addFault({ service: 'heat', operation: 'update', kind: 'reset-after', times: 1 });
    await skewed.apply(stackManifest(name, 'heat', spec('heat', 'two')));
    await skewed.waitStack(name, (s) => isReady(s) && s.status?.outputs?.message === 'two', 'Ready with two');
    await new Promise((r) => setTimeout(r, 1000));
    expect(mutations(skewed, 'heat', name)).toMatchObject({ create: 1, update: 1 });
  });
});
