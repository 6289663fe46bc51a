// The Cloud Foundry adapter against the emulator: UAA auth, create (app) → Complete, a droplet
// deployment as update, cancel of a long deployment (rolled back; a second cancel is a Conflict), delete (202 + job polled by get()), ownership,
// the guid guard, bad credentials → Unauthorized.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import { ProviderError, type StackInput, type StackProviderClient, type StackView } from '../../../src/providers/types.ts';

const logger = pino({ level: 'silent' });
let emu: Emulator;
let client: StackProviderClient;

function config(secret?: string): ResolvedProviderConfig {
  const c = emu.credentials.cloudFoundry;
  return {
    key: `StackProvider/ns/cf${secret ? '-bad' : ''}@1`,
    type: 'cloudfoundry',
    rateLimit: { qps: 1000, burst: 1000 },
    allowPlainHTTP: true,
    cloudFoundry: { apiUrl: emu.endpoints.cloudFoundry, spaceGuid: c.spaceGuid },
    credentials: { clientId: c.clientId, clientSecret: secret ?? c.clientSecret },
  };
}

beforeAll(async () => {
  emu = await startEmulator({ operationSpeed: 0.01 });
  client = createProviderClient(config(), { logger });
});
afterAll(async () => {
  await client?.close();
  await emu?.close();
});

async function until(ref: { name: string; id?: string }, pred: (v: StackView | null) => boolean): Promise<StackView | null> {
  for (let i = 0; i < 300; i++) {
    const v = await client.get(ref);
    if (pred(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out; last: ${JSON.stringify(await client.get(ref))}`);
}

async function uaaToken(): Promise<string> {
  const c = emu.credentials.cloudFoundry;
  const res = await fetch(`${emu.endpoints.uaa}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function droplet(appGuid: string, waitSecs: number): Promise<string> {
  const template = JSON.stringify({ resources: { web: { type: 'OS::Heat::TestResource', properties: { value: `v${waitSecs}`, wait_secs: waitSecs } } } });
  const res = await fetch(`${emu.endpoints.cloudFoundry}/v3/droplets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `bearer ${await uaaToken()}` },
    body: JSON.stringify({ relationships: { app: { data: { guid: appGuid } } }, metadata: { annotations: { 'emulator.stackoperator.dev/template': template } } }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { guid: string }).guid;
}

const input = (name: string, uid: string, options: Record<string, unknown> = {}): StackInput => ({
  name,
  template: {},
  parameters: {},
  usePreviousParameters: false,
  disableRollback: false,
  timeoutMinutes: 60,
  tags: {},
  ownerUid: uid,
  deletionProtection: false,
  options,
});

describe('cloudfoundry adapter against the emulator', () => {
  it('authenticates; a bad client secret is Unauthorized', async () => {
    await client.checkConnection();
    const bad = createProviderClient(config('wrong'), { logger });
    try {
      const e = await bad.checkConnection().then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).kind).toBe('Unauthorized');
    } finally {
      await bad.close();
    }
  });

  it('create → deploy → cancel → delete, with ownership and the guid guard', async () => {
    const name = `app${Date.now() % 100000}`;
    const uid = 'aaaaaaaa-2222-4333-8444-555555555555';
    const { id } = await client.create(input(name, uid), { token: `${uid}-1-create` });
    const created = await until({ name, id }, (v) => v?.phase === 'Complete');
    expect(created?.ownerUid).toBe(uid);
    expect((await client.get({ name }))?.id).toBe(id);

    const d1 = await droplet(id, 10);
    await client.update({ name, id }, input(name, uid, { dropletGuid: d1 }), { token: `${uid}-2-update` });
    // The same token again does not make a second deployment.
    await client.update({ name, id }, input(name, uid, { dropletGuid: d1 }), { token: `${uid}-2-update` });
    const deployed = await until({ name, id }, (v) => v?.phase !== 'InProgress' && v?.rawStatus !== `APP_STARTED` && v?.rawStatus !== 'APP_STOPPED');
    expect(deployed?.phase).toBe('Complete');

    const d2 = await droplet(id, 300);
    await client.update({ name, id }, input(name, uid, { dropletGuid: d2 }), { token: `${uid}-3-update` });
    const running = await until({ name, id }, (v) => v?.phase === 'InProgress');
    expect(running?.operation).toBe('update');
    await client.cancelUpdate({ name, id }, 'Rollback', { token: `${uid}-3-cancel` });
    const cancelled = await until({ name, id }, (v) => v?.phase !== 'InProgress');
    expect(cancelled?.phase).toBe('RolledBack');
    // Cancelling again, with nothing running, is refused as a Conflict.
    const e = await client.cancelUpdate({ name, id }, 'Rollback', { token: `${uid}-3-cancel-again` }).then(() => undefined, (err: unknown) => err);
    expect((e as ProviderError).kind).toBe('Conflict');

    await client.delete({ name, id }, { retainResources: false }, { token: `${uid}-4-delete` });
    await until({ name, id }, (v) => v === null);
    expect(await client.get({ name, id })).toBeNull();
  });
});
