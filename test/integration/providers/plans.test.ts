// Provider plans through the adapters (docs/plan-approve.md), against the emulator over real HTTP: ROS
// change sets and RFS execution plans. A create's plan lives on a stack made for it (ROS
// REVIEW_IN_PROGRESS, an empty RFS stack) that carries our ownership and reads back as planOnly; the
// approved plan is executed exactly once (a resend after a lost reply runs nothing); a superseded plan
// is deleted. The emulator's engine (operations run, resources) is the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import { ProviderError, type StackInput, type StackProviderClient, type StackView } from '../../../src/providers/types.ts';

const logger = pino({ level: 'silent' });
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ operationSpeed: 0.01 });
});
afterAll(async () => {
  await emu?.close();
});

const common = { rateLimit: { qps: 1000, burst: 1000 }, allowPlainHTTP: true };

interface Case {
  name: 'ros' | 'rfs';
  config: () => ResolvedProviderConfig;
  template: (value: string, extra?: boolean) => unknown;
  holderStatus: string;
}

const cases: Case[] = [
  {
    name: 'ros',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/ros@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.ros, regionId: emu.credentials.ros.regionId },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: emu.credentials.ros.secretAccessKey },
    }),
    template: (value, extra) => ({
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: {
        app: { Type: 'OS::Heat::TestResource', Properties: { value } },
        ...(extra ? { extra: { Type: 'OS::Heat::TestResource', Properties: { value: 'e' } } } : {}),
      },
    }),
    holderStatus: 'REVIEW_IN_PROGRESS',
  },
  {
    name: 'rfs',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/rfs@1',
      type: 'rfs',
      rfs: { endpoint: emu.endpoints.rfs, region: emu.credentials.rfs.region, projectId: emu.credentials.rfs.projectId },
      credentials: { accessKeyId: emu.credentials.rfs.accessKeyId, secret: emu.credentials.rfs.secretAccessKey },
    }),
    template: (value, extra) => ({ resource: { test_resource: { app: { value }, ...(extra ? { extra: { value: 'e' } } : {}) } } }),
    holderStatus: 'CREATION_COMPLETE',
  },
];

function input(name: string, template: unknown): StackInput {
  return { name, template, parameters: {}, usePreviousParameters: false, disableRollback: false, timeoutMinutes: 60, tags: {}, ownerUid: `uid-${name}`, deletionProtection: false, options: {} };
}

async function settled(client: StackProviderClient, name: string): Promise<StackView> {
  for (let i = 0; i < 300; i++) {
    const v = await client.get({ name });
    if (v && v.phase !== 'InProgress') return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} never settled`);
}

/** CREATE / UPDATE operations the engine ran on the stack: what "applied" means. */
function applied(c: Case, name: string): number {
  const scope = c.name === 'ros' ? emu.credentials.ros.regionId : emu.credentials.rfs.projectId;
  const s = emu.engine.findByName(c.name, scope, name);
  return s ? s.operations.filter((o) => o.action === 'CREATE' || o.action === 'UPDATE').length : 0;
}

describe.each(cases)('$name plans through the adapter', (c) => {
  let client: StackProviderClient;
  beforeAll(() => {
    client = createProviderClient(c.config(), { logger, http: { maxRetryWaitMs: 3000 } });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('create: the plan lives on an owned planOnly stack; a superseded create plan is replaced; the approved one is executed once', async () => {
    const name = `plan-${c.name}-c`;
    const first = await client.preview!(input(name, c.template('a')), undefined, { token: 'aaaaaaaaaa' });
    expect(first.changes).toEqual([{ name: 'app', type: c.name === 'ros' ? 'OS::Heat::TestResource' : 'test_resource', action: 'Add' }]);
    expect(first.providerPlanId).toBeTruthy();
    const holder = await client.get({ name });
    expect(holder).toMatchObject({ rawStatus: c.holderStatus, planOnly: true, ownerUid: `uid-${name}`, phase: 'Complete' });
    expect(applied(c, name)).toBe(0);

    // The spec changed before approval: the next plan supersedes the first (and its holder, on ROS).
    const second = await client.preview!(input(name, c.template('b', true)), undefined, { token: 'bbbbbbbbbb', supersedes: first.providerPlanId!, holder: { name, id: holder!.id } });
    expect(second.changes.map((x) => x.action)).toEqual(['Add', 'Add']);
    expect(second.providerPlanId).not.toBe(first.providerPlanId);
    // The superseded plan cannot be executed any more.
    await expect(client.create(input(name, c.template('a')), { token: 'exec-old', providerPlanId: first.providerPlanId! })).rejects.toBeInstanceOf(ProviderError);
    expect(applied(c, name)).toBe(0);

    const created = await client.create(input(name, c.template('b', true)), { token: 'exec-1', providerPlanId: second.providerPlanId! });
    const done = await settled(client, name);
    expect(done.id).toBe(created.id);
    expect(done.phase).toBe('Complete');
    expect(done.planOnly).toBeUndefined();
    // The reply was lost and the call is resent: nothing runs twice.
    await client.create(input(name, c.template('b', true)), { token: 'exec-1', providerPlanId: second.providerPlanId! });
    expect(applied(c, name)).toBe(1);
  });

  it('update: Change / Remove from the stack diff, a superseded plan is deleted, the approved plan is applied once', async () => {
    const name = `plan-${c.name}-u`;
    const { id } = await client.create(input(name, c.template('a', true)), { token: `create-${name}` });
    await settled(client, name);
    const ref = { name, id };
    const p1 = await client.preview!(input(name, c.template('b', true)), ref, { token: 'cccccccccc' });
    expect(p1.changes.map((x) => `${x.action}:${x.name}`)).toEqual(['Change:app']);
    const p2 = await client.preview!(input(name, c.template('c')), ref, { token: 'dddddddddd', supersedes: p1.providerPlanId! });
    expect(p2.changes.map((x) => `${x.action}:${x.name}`).sort()).toEqual([`Change:${'app'}`, `Remove:${'extra'}`]);
    await expect(client.update(ref, input(name, c.template('b', true)), { token: 'upd-old', providerPlanId: p1.providerPlanId! })).rejects.toBeInstanceOf(ProviderError);
    expect(applied(c, name)).toBe(1);
    await client.update(ref, input(name, c.template('c')), { token: 'upd-1', providerPlanId: p2.providerPlanId! });
    const done = await settled(client, name);
    expect(done.phase).toBe('Complete');
    await client.update(ref, input(name, c.template('c')), { token: 'upd-1', providerPlanId: p2.providerPlanId! });
    expect(applied(c, name)).toBe(2);
    const scope = c.name === 'ros' ? emu.credentials.ros.regionId : emu.credentials.rfs.projectId;
    expect([...emu.engine.findByName(c.name, scope, name)!.resources.keys()].length).toBe(1);
  });

  it('the same plan id on two Stacks gives two plans; a plan of another stack is refused (the id guard)', async () => {
    const a = `plan-${c.name}-g1`;
    const b = `plan-${c.name}-g2`;
    const ca = await client.create(input(a, c.template('a')), { token: `create-${a}` });
    const cb = await client.create(input(b, c.template('a')), { token: `create-${b}` });
    await settled(client, a);
    await settled(client, b);
    const p = await client.preview!(input(a, c.template('z')), { name: a, id: ca.id }, { token: 'eeeeeeeeee' });
    // Plan ids are per Stack: another Stack's plan with the same id is its own plan, never a replay.
    const pb = await client.preview!(input(b, c.template('z')), { name: b, id: cb.id }, { token: 'eeeeeeeeee' });
    expect(pb.providerPlanId).not.toBe(p.providerPlanId);
    await expect(client.update({ name: b, id: cb.id }, input(b, c.template('z')), { token: 'cross', providerPlanId: p.providerPlanId! })).rejects.toBeInstanceOf(ProviderError);
    expect(applied(c, b)).toBe(1);
  });

  it('a plan the stack outgrew (changed outside since) is refused as Invalid, never retried as a conflict', async () => {
    const name = `plan-${c.name}-x`;
    const { id } = await client.create(input(name, c.template('a')), { token: `create-${name}` });
    await settled(client, name);
    const p = await client.preview!(input(name, c.template('b')), { name, id }, { token: 'ffffffffff' });
    await client.update({ name, id }, input(name, c.template('outside')), { token: `direct-${name}` });
    await settled(client, name);
    const e = await client.update({ name, id }, input(name, c.template('b')), { token: `late-${name}`, providerPlanId: p.providerPlanId! }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ProviderError);
    expect((e as ProviderError).kind).toBe('Invalid');
    expect(applied(c, name)).toBe(2);
  });
});
