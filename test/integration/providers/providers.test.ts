// The provider adapters against the emulator over real HTTP: auth, create → Complete, update,
// cancel (where capable), delete, ownership read back, the id guard, throttling with Retry-After,
// 401 → Unauthorized and a bad template → Invalid naming the field.
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

async function until(client: StackProviderClient, ref: { name: string; id?: string }, pred: (v: StackView | null) => boolean, timeoutMs = 20_000): Promise<StackView | null> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 400; i++) {
    const v = await client.get(ref);
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('poll bound reached');
}

function input(name: string, uid: string, template: unknown, over: Partial<StackInput> = {}): StackInput {
  return {
    name,
    template,
    parameters: {},
    usePreviousParameters: false,
    disableRollback: false,
    timeoutMinutes: 60,
    tags: { team: 'a' },
    ownerUid: uid,
    deletionProtection: false,
    options: {},
    ...over,
  };
}

const common = { rateLimit: { qps: 1000, burst: 1000 }, allowPlainHTTP: true };
const http = { maxRetryWaitMs: 3000 };

async function expectError(p: Promise<unknown>, kind: string): Promise<ProviderError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  expect((e as ProviderError).kind).toBe(kind);
  return e as ProviderError;
}

interface Case {
  name: string;
  config: () => ResolvedProviderConfig;
  badCredentials: () => ResolvedProviderConfig;
  template: (value: string, waitSecs: number) => unknown;
  badTemplate: unknown;
  cancel: boolean;
}

const cases: Case[] = [
  {
    name: 'heat',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/heat@1',
      type: 'heat',
      heat: { authUrl: emu.endpoints.keystone, projectName: emu.credentials.keystone.projectName, region: emu.credentials.keystone.region },
      credentials: { username: emu.credentials.keystone.username, password: emu.credentials.keystone.password },
    }),
    badCredentials: () => ({
      ...common,
      key: 'StackProvider/ns/heat-bad@1',
      type: 'heat',
      heat: { authUrl: emu.endpoints.keystone, projectName: emu.credentials.keystone.projectName },
      credentials: { username: emu.credentials.keystone.username, password: 'wrong' },
    }),
    template: (value, wait) => ({
      heat_template_version: '2018-08-31',
      resources: { r: { type: 'OS::Heat::TestResource', properties: { value, wait_secs: wait } } },
      outputs: { out: { value: { get_attr: ['r', 'output'] } } },
    }),
    badTemplate: { heat_template_version: '2018-08-31', resourcez: {} },
    cancel: true,
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
    badCredentials: () => ({
      ...common,
      key: 'StackProvider/ns/rfs-bad@1',
      type: 'rfs',
      rfs: { endpoint: emu.endpoints.rfs, region: emu.credentials.rfs.region, projectId: emu.credentials.rfs.projectId },
      credentials: { accessKeyId: emu.credentials.rfs.accessKeyId, secret: 'wrong' },
    }),
    template: (value, wait) => ({ resource: { null_resource: { r: { value, wait_secs: wait } } }, output: { out: { value } } }),
    badTemplate: 'this is { not a template',
    cancel: false,
  },
  {
    name: 'ros',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/ros@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.ros, regionId: emu.credentials.ros.regionId },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: emu.credentials.ros.secretAccessKey },
    }),
    badCredentials: () => ({
      ...common,
      key: 'StackProvider/ns/ros-bad@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.ros, regionId: emu.credentials.ros.regionId },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: 'wrong' },
    }),
    template: (value, wait) => ({
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value, wait_secs: wait } } },
      Outputs: { Out: { Value: value } },
    }),
    badTemplate: { ROSTemplateFormatVersion: '2015-09-01', Bogus: {} },
    cancel: true,
  },
  {
    name: 'ros (HMAC-SHA1 RPC signature)',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/ros-v1@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.ros, regionId: emu.credentials.ros.regionId, signatureVersion: 'HMAC-SHA1' },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: emu.credentials.ros.secretAccessKey },
    }),
    badCredentials: () => ({
      ...common,
      key: 'StackProvider/ns/ros-v1-bad@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.ros, regionId: emu.credentials.ros.regionId, signatureVersion: 'HMAC-SHA1' },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: 'wrong' },
    }),
    template: (value, wait) => ({
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value, wait_secs: wait } } },
    }),
    badTemplate: { ROSTemplateFormatVersion: '2015-09-01', Bogus: {} },
    cancel: true,
  },
  {
    name: 'ros 2015-09-01 (legacy REST)',
    config: () => ({
      ...common,
      key: 'StackProvider/ns/ros-legacy@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.rosLegacy, regionId: emu.credentials.ros.regionId, apiVersion: '2015-09-01' },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: emu.credentials.ros.secretAccessKey },
    }),
    badCredentials: () => ({
      ...common,
      key: 'StackProvider/ns/ros-legacy-bad@1',
      type: 'ros',
      ros: { endpoint: emu.endpoints.rosLegacy, regionId: emu.credentials.ros.regionId, apiVersion: '2015-09-01' },
      credentials: { accessKeyId: emu.credentials.ros.accessKeyId, secret: 'wrong' },
    }),
    template: (value, wait) => ({
      ROSTemplateFormatVersion: '2015-09-01',
      Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value, wait_secs: wait } } },
    }),
    badTemplate: { ROSTemplateFormatVersion: '2015-09-01', Bogus: {} },
    cancel: false,
  },
];

describe.each(cases)('$name adapter against the emulator', (c) => {
  let client: StackProviderClient;
  beforeAll(() => {
    client = createProviderClient(c.config(), { logger, http });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('authenticates (checkConnection); bad credentials are Unauthorized', async () => {
    await client.checkConnection();
    const bad = createProviderClient(c.badCredentials(), { logger, http });
    try {
      await expectError(bad.checkConnection(), 'Unauthorized');
    } finally {
      await bad.close();
    }
  });

  it('create → Complete → update → (cancel) → delete, with ownership and the id guard', async () => {
    const name = `s${c.name.replace(/[^a-z]/g, '')}${Date.now() % 100000}`;
    // Tokens derive from the Stack uid, so each case uses its own uid (ROS replays a ClientToken).
    const uid = `11111111-2222-4333-8444-${String(cases.indexOf(c)).padStart(12, '0')}`;
    const { id } = await client.create(input(name, uid, c.template('one', 50)), { token: `${uid}-1-create` });
    expect(id).toBeTruthy();
    const done = await until(client, { name, id }, (v) => v?.phase === 'Complete');
    expect(done?.ownerUid).toBe(uid);
    expect(done?.id).toBe(id);
    const byName = await client.get({ name });
    expect(byName?.id).toBe(id);

    await client.update({ name, id }, input(name, uid, c.template('two', 50)), { token: `${uid}-2-update` });
    const updated = await until(client, { name, id }, (v) => v?.phase !== 'InProgress' && v?.operation !== 'create');
    expect(updated?.phase).toBe('Complete');

    if (c.cancel && client.capabilities.cancelModes.length) {
      await client.update({ name, id }, input(name, uid, c.template('three', 300)), { token: `${uid}-3-update` });
      await until(client, { name, id }, (v) => v?.phase === 'InProgress');
      await client.cancelUpdate({ name, id }, 'Rollback', { token: `${uid}-3-cancel` });
      const after = await until(client, { name, id }, (v) => v?.phase !== 'InProgress');
      expect(['RolledBack', 'Failed', 'Complete']).toContain(after?.phase);
    } else {
      await expectError(client.cancelUpdate({ name, id }, 'Rollback', { token: 'x' }), 'Invalid');
    }

    await client.delete({ name, id }, { retainResources: false }, { token: `${uid}-4-delete` });
    await until(client, { name, id }, (v) => v === null);

    // The id guard: a re-created same-name stack is not the old one.
    const otherUid = `99999999-2222-4333-8444-${String(cases.indexOf(c)).padStart(12, '0')}`;
    const again = await client.create(input(name, otherUid, c.template('x', 0)), { token: `${otherUid}-1-create` });
    expect(again.id).not.toBe(id);
    expect(await client.get({ name, id })).toBeNull();
    const other = await until(client, { name, id: again.id }, (v) => v?.phase === 'Complete');
    expect(other?.ownerUid).toBe(otherUid);
    await client.delete({ name, id: again.id }, { retainResources: false }, { token: `${otherUid}-2-delete` });
    await until(client, { name, id: again.id }, (v) => v === null);
  });

  it('a bad template is Invalid and names the field', async () => {
    const e = await expectError(client.create(input(`bad${Date.now() % 100000}`, 'u', c.badTemplate), { token: `bad-template-${Date.now()}-000000000000000000` }), 'Invalid');
    expect(e.field).toBeTruthy();
  });
});

describe('throttling', () => {
  it('a 429 with Retry-After comes back as Throttled (no in-call retry beyond the bound)', async () => {
    const res = await fetch(`${emu.url}/_emulator/rate-limit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ services: { heat: { requestsPerSecond: 0.01, burst: 1 } } }),
    });
    expect(res.ok).toBe(true);
    const client = createProviderClient(cases[0]!.config(), { logger, http: { maxRetryWaitMs: 100, maxAttempts: 2 } });
    try {
      let err: ProviderError | undefined;
      for (let i = 0; i < 5 && !err; i++) {
        await client.checkConnection().catch((e: unknown) => {
          if (e instanceof ProviderError) err = e;
          else throw e;
        });
      }
      expect(err?.kind).toBe('Throttled');
      expect(err?.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await client.close();
      await fetch(`${emu.url}/_emulator/rate-limit`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: 'null' });
    }
  });
});

// Every error class and the remaining read/mutation operations, per adapter: the emulator injects the
// service's own error answers (before the engine, so nothing changes on the stack).
const SERVICE: Record<string, 'heat' | 'rfs' | 'ros' | 'rosLegacy'> = {
  heat: 'heat',
  rfs: 'rfs',
  ros: 'ros',
  'ros (HMAC-SHA1 RPC signature)': 'ros',
  'ros 2015-09-01 (legacy REST)': 'rosLegacy',
};

describe.each(cases)('$name adapter: error classes, events, outputs, protection', (c) => {
  let client: StackProviderClient;
  let ref: { name: string; id: string };
  beforeAll(async () => {
    client = createProviderClient(c.config(), { logger, http: { ...http, maxAttempts: 2 } });
    const name = `e${c.name.replace(/[^a-z]/g, '')}${Date.now() % 100000}`;
    const uid = `33333333-2222-4333-8444-${String(cases.indexOf(c)).padStart(12, '0')}`;
    const { id } = await client.create(input(name, uid, c.template('one', 0)), { token: `${uid}-create` });
    ref = { name, id };
    await until(client, ref, (v) => v?.phase === 'Complete');
  });
  afterAll(async () => {
    emu.control.clearFaults();
    await client?.delete(ref, { retainResources: false }, { token: `${ref.id}-delete` }).catch(() => undefined);
    await client?.close();
  });

  it('a 5xx answer is Transient; a dropped connection is Transient; a missing stack reads as null', async () => {
    emu.control.addFault({ service: SERVICE[c.name] ?? 'heat', kind: 'error', status: 503, times: 10 });
    await expectError(client.get(ref), 'Transient');
    emu.control.clearFaults();
    emu.control.addFault({ service: SERVICE[c.name] ?? 'heat', kind: 'drop', times: 10 });
    await expectError(client.get(ref), 'Transient');
    emu.control.clearFaults();
    expect(await client.get({ name: `${ref.name}x` })).toBeNull();
  });

  it('creating a stack whose name is taken is a Conflict', async () => {
    await expectError(client.create(input(ref.name, '44444444-2222-4333-8444-000000000000', c.template('x', 0)), { token: `${ref.id}-dup` }), 'Conflict');
  });

  it('a 429 answer is Throttled', async () => {
    emu.control.addFault({ service: SERVICE[c.name] ?? 'heat', kind: 'error', status: 429, times: 10 });
    await expectError(client.get(ref), 'Throttled');
    emu.control.clearFaults();
  });

  it('outputs() and events() read the stack', async () => {
    const outs = await client.outputs(ref);
    expect(Array.isArray(outs)).toBe(true);
    const events = await client.events(ref, { limit: 10 });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]?.status).toBeTruthy();
  });

  it('setDeletionProtection mirrors to the native flag where the provider has one', async () => {
    await client.setDeletionProtection(ref, true, { token: `${ref.id}-protect` });
    const v = await client.get(ref);
    if (client.capabilities.nativeDeletionProtection) {
      expect(v?.deletionProtection).toBe(true);
      await client.setDeletionProtection(ref, false, { token: `${ref.id}-unprotect` });
      expect((await client.get(ref))?.deletionProtection).toBe(false);
    } else {
      expect(v?.deletionProtection).toBeUndefined();
    }
  });
});
