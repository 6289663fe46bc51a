// The heat adapter and the whole operator against a real OpenStack Heat 19 + Keystone 22 (Debian
// packages): login through Keystone v3 with the service catalog, create, update, cancel, delete; then
// a Stack applied to the real kube-apiserver becomes Ready, follows a parameter change, and is deleted.
import { spawnSync } from 'node:child_process';
import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import type { StackInput, StackProviderClient, StackView } from '../../../src/providers/types.ts';
import { silentLogger } from '../../../src/runtime/logging.ts';
import { type RealHeat, startHeat } from '../../env/heat/launcher.ts';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, isReady, stackManifest, startOperatorEnv } from '../../integration/stacks/harness.ts';

const installScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../env/heat/install.sh');

let heat: RealHeat;

beforeAll(async () => {
  const inst = spawnSync('bash', [installScript], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  if (inst.status !== 0) throw new Error(`${installScript} failed (${inst.signal ?? `exit ${inst.status}`})`);
  heat = await startHeat();
}, 900_000);
afterAll(async () => {
  await heat?.stop();
}, 60_000);

const template = (value: string, updateWait = 0) => ({
  heat_template_version: '2018-08-31',
  parameters: { message: { type: 'string', default: value } },
  resources: {
    app: { type: 'OS::Heat::TestResource', properties: { value: { get_param: 'message' }, action_wait_secs: { create: 0, update: updateWait, delete: 0 } } },
  },
  outputs: { message: { value: { get_attr: ['app', 'output'] } } },
});

function config(auth: 'password' | 'appcred'): ResolvedProviderConfig {
  const d = heat.demo;
  return {
    type: 'heat',
    key: `test/heat-${auth}@1`,
    allowPlainHTTP: true, // the test Heat listens on loopback http
    rateLimit: { qps: 50, burst: 50 },
    heat: { authUrl: heat.keystoneUrl, region: heat.region, projectName: d.projectName, projectDomainName: 'Default', userDomainName: 'Default', interface: 'public' },
    credentials:
      auth === 'password'
        ? { username: d.username, password: d.password }
        : { applicationCredentialId: d.applicationCredential.id, applicationCredentialSecret: d.applicationCredential.secret },
  };
}

async function until(client: StackProviderClient, ref: { name: string; id: string }, ok: (v: StackView | null) => boolean, what: string): Promise<StackView | null> {
  const deadline = Date.now() + 120_000;
  let last: StackView | null = null;
  while (Date.now() < deadline) {
    last = await client.get(ref);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe('heat adapter against real Heat + Keystone', () => {
  const input = (value: string, updateWait = 0): StackInput => ({
    name: 'adapter-e2e',
    template: template(value, updateWait),
    parameters: { message: value },
    usePreviousParameters: false,
    disableRollback: false,
    timeoutMinutes: 10,
    tags: { team: 'e2e' },
    ownerUid: 'uid-e2e',
    deletionProtection: false,
    options: {},
  });

  it('logs in through Keystone (catalog lookup) and runs create, update, cancel, delete', async () => {
    const client = createProviderClient(config('password'), { logger: silentLogger });
    try {
      await client.checkConnection();
      const { id } = await client.create(input('one'), { token: 'tok-create' });
      const ref = { name: 'adapter-e2e', id };
      const created = await until(client, ref, (v) => v?.phase === 'Complete', 'CREATE_COMPLETE');
      expect(created?.rawStatus).toBe('CREATE_COMPLETE');
      expect(created?.ownerUid).toBe('uid-e2e');
      expect(created?.tags?.team).toBe('e2e');

      await client.update(ref, input('two'), { token: 'tok-update' });
      const updated = await until(client, ref, (v) => v?.rawStatus === 'UPDATE_COMPLETE', 'UPDATE_COMPLETE');
      expect(updated?.outputs?.find((o) => o.key === 'message')?.value ?? (await client.outputs(ref)).find((o) => o.key === 'message')?.value).toBe('two');
      // A PUT without our tags would clear them on real Heat: ownership must survive an update.
      expect(updated?.ownerUid).toBe('uid-e2e');

      await client.update(ref, input('three', 30), { token: 'tok-update-2' });
      await until(client, ref, (v) => v?.rawStatus === 'UPDATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS');
      await client.cancelUpdate(ref, 'Rollback', { token: 'tok-cancel' });
      const rolled = await until(client, ref, (v) => v?.phase !== 'InProgress' && v?.rawStatus !== 'UPDATE_IN_PROGRESS', 'cancel settled');
      expect(rolled?.rawStatus).toBe('ROLLBACK_COMPLETE');
      expect(rolled?.phase).toBe('RolledBack');

      await client.delete(ref, { retainResources: false }, { token: 'tok-delete' });
      await until(client, ref, (v) => v === null || v.phase === 'Deleted', 'deleted');
    } finally {
      await client.close();
    }
  });

  it('template_url: real Heat fetches the template from a URL (a loopback server), on create and on update', async () => {
    const served = { body: JSON.stringify(template('from-url')) };
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(served.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.json`;
    const client = createProviderClient(config('password'), { logger: silentLogger });
    try {
      const byUrl = (value: string): StackInput => ({ ...input(value), name: 'url-e2e', template: undefined, templateUrl: url });
      const { id } = await client.create(byUrl('one'), { token: 'tok-url-create' });
      const ref = { name: 'url-e2e', id };
      await until(client, ref, (v) => v?.rawStatus === 'CREATE_COMPLETE', 'CREATE_COMPLETE');
      expect((await client.outputs(ref)).find((o) => o.key === 'message')?.value).toBe('one');
      const afterCreate = fetches;
      expect(afterCreate).toBeGreaterThan(0);
      // The content behind an unchanged URL changed: an update sends the URL again and Heat fetches it anew.
      served.body = JSON.stringify({ ...template('x'), description: 'second version' });
      await client.update(ref, byUrl('two'), { token: 'tok-url-update' });
      const updated = await until(client, ref, (v) => v?.rawStatus === 'UPDATE_COMPLETE', 'UPDATE_COMPLETE');
      expect(fetches).toBeGreaterThan(afterCreate);
      expect((await client.outputs(ref)).find((o) => o.key === 'message')?.value).toBe('two');
      expect(updated?.ownerUid).toBe('uid-e2e');
      await client.delete(ref, { retainResources: false }, { token: 'tok-url-delete' });
      await until(client, ref, (v) => v === null || v.phase === 'Deleted', 'deleted');
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('authenticates with an application credential too', async () => {
    const client = createProviderClient(config('appcred'), { logger: silentLogger });
    try {
      await client.checkConnection();
      expect(await client.get({ name: 'no-such-stack' })).toBeNull();
    } finally {
      await client.close();
    }
  });
});

describe('the operator against real Heat', () => {
  let env: OperatorEnv;
  beforeAll(async () => {
    env = await startOperatorEnv({ providers: [] });
    const d = heat.demo;
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'real-heat' }, stringData: { username: d.username, password: d.password } });
    await env.apply({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'StackProvider',
      metadata: { name: 'real-heat' },
      spec: { heat: { authUrl: heat.keystoneUrl, region: heat.region, projectName: d.projectName, credentialsSecretRef: { name: 'real-heat' } }, allowPlainHTTP: true, pollInterval: '1s' },
    });
  }, 180_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('kubectl apply, kubectl wait Ready, a parameter change becomes an update, delete removes the stack', async () => {
    const p = await kubectl(['wait', '--for=condition=Ready', 'stackprovider/real-heat', '-n', env.ns, '--timeout=60s']);
    expect(p.code, p.stderr).toBe(0);
    await env.apply(stackManifest('real', 'heat', { providerRef: { name: 'real-heat' }, template: { inline: template('v1') }, parameters: { message: 'hello' } }));
    const w = await kubectl(['wait', '--for=condition=Ready', 'stack/real', '-n', env.ns, '--timeout=120s']);
    expect(w.code, w.stderr).toBe(0);
    const s = await env.waitStack('real', isReady, 'Ready');
    expect(s.status?.stackStatus).toBe('CREATE_COMPLETE');
    expect(s.status?.outputs?.message).toBe('hello');

    await env.apply(stackManifest('real', 'heat', { providerRef: { name: 'real-heat' }, template: { inline: template('v1') }, parameters: { message: 'changed' } }));
    const u = await env.waitStack('real', (x) => isReady(x) && x.status?.outputs?.message === 'changed', 'updated', 120_000);
    expect(u.status?.stackStatus).toBe('UPDATE_COMPLETE');
    expect(cond(u, 'Ready')?.observedGeneration).toBe(u.metadata.generation);

    await kubectl(['delete', 'stack', 'real', '-n', env.ns, '--wait=false']);
    await env.waitGone('real', 120_000);
    const client = createProviderClient(config('password'), { logger: silentLogger });
    try {
      const after = await client.get({ name: 'real', id: s.status?.stackId ?? '' });
      expect(after === null || after.phase === 'Deleted').toBe(true);
    } finally {
      await client.close();
    }
  });

  // Real Heat's own state machine is the oracle: a cancelled update ends ROLLBACK_COMPLETE, and the
  // reverted spec (the desired state last applied) must still be applied, not left Stalled.
  it('a spec reverted while its update runs: real Heat cancels and rolls back, then the reverted spec is applied', async () => {
    const manifest = (message: string, updateWait: number) =>
      stackManifest('revert', 'heat', { providerRef: { name: 'real-heat' }, template: { inline: template('v1', updateWait) }, parameters: { message } });
    await env.apply(manifest('one', 0));
    await env.waitStack('revert', isReady, 'Ready', 120_000);
    await env.apply(manifest('two', 60));
    await env.waitStack('revert', (x) => x.status?.stackStatus === 'UPDATE_IN_PROGRESS', 'update running', 60_000);
    await env.apply(manifest('one', 0));
    const s = await env.waitStack('revert', (x) => isReady(x) && x.status?.lastAppliedGeneration === x.metadata.generation, 'reverted spec applied', 180_000);
    expect(s.status?.stackStatus).toBe('UPDATE_COMPLETE');
    expect(s.status?.outputs?.message).toBe('one');
    const reasons = (await kubectl(['get', 'events.events.k8s.io', '-n', env.ns, '--field-selector', 'regarding.name=revert', '-o', 'jsonpath={.items[*].reason}'])).stdout;
    expect(reasons).toContain('UpdateCancelled');
    await kubectl(['delete', 'stack', 'revert', '-n', env.ns, '--wait=false']);
    await env.waitGone('revert', 120_000);
  });

  // Plan, then approve (docs/plan-approve.md): the plan comes from real Heat's previews, nothing
  // happens before the approval, and the approved update does what the plan said.
  it('approval.mode Manual: real Heat previews the create and the update; each applies only once approved', async () => {
    const tpl = (value: string, next: boolean) => ({
      heat_template_version: '2018-08-31',
      resources: {
        app: { type: 'OS::Heat::TestResource', properties: { value } },
        rnd: { type: 'OS::Heat::RandomString', properties: { length: next ? 10 : 8 } },
        ...(next ? { more: { type: 'OS::Heat::TestResource', properties: { value: 'more' } } } : {}),
      },
    });
    const manifest = (next: boolean) =>
      stackManifest('planned', 'heat', { providerRef: { name: 'real-heat' }, template: { inline: tpl(next ? 'two' : 'one', next) }, approval: { mode: 'Manual' } });
    const awaitingGen = (gen: number) => (x: Parameters<typeof isReady>[0]) =>
      cond(x, 'Reconciling')?.reason === 'AwaitingApproval' && x.metadata.generation === gen && x.status?.plan?.generation === gen;
    const approve = async (id: string) => {
      const r = await kubectl(['annotate', 'stack', 'planned', '-n', env.ns, `stackoperator.dev/approve=${id}`, '--overwrite']);
      expect(r.code, r.stderr).toBe(0);
    };
    const changes = (x: Parameters<typeof isReady>[0]) => (x.status?.plan?.changes ?? []).map((c) => `${c.action} ${c.name}`).sort();

    await env.apply(manifest(false));
    const created = await env.waitStack('planned', awaitingGen(1), 'create plan', 60_000);
    expect(changes(created)).toEqual(['Add app', 'Add rnd']);
    const client = createProviderClient(config('password'), { logger: silentLogger });
    try {
      expect(await client.get({ name: 'planned' })).toBeNull();
      await approve(created.status?.plan?.id ?? '');
      const ready = await env.waitStack('planned', isReady, 'Ready', 120_000);

      await env.apply(manifest(true));
      const planned = await env.waitStack('planned', awaitingGen(2), 'update plan', 60_000);
      expect(planned.status?.plan?.summary).toEqual({ add: 1, change: 1, replace: 1, remove: 0 });
      expect(changes(planned)).toEqual(['Add more', 'Change app', 'Replace rnd']);
      const ref = { name: 'planned', id: ready.status?.stackId ?? '' };
      expect((await client.get(ref))?.rawStatus).toBe('CREATE_COMPLETE'); // the preview changed nothing

      await approve(planned.status?.plan?.id ?? '');
      const done = await env.waitStack('planned', (x) => isReady(x) && x.status?.lastAppliedGeneration === 2, 'updated', 120_000);
      expect(done.status?.stackStatus).toBe('UPDATE_COMPLETE');
      const seen = new Set((await client.events(ref, { limit: 100 })).map((e) => `${e.resourceName} ${e.status}`));
      expect(seen).toContain('more CREATE_COMPLETE');
      expect(seen).toContain('app UPDATE_COMPLETE');
    } finally {
      await client.close();
    }
    await kubectl(['delete', 'stack', 'planned', '-n', env.ns, '--wait=false']);
    await env.waitGone('planned', 120_000);
  });
});
