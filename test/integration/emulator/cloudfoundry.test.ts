/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, uaaToken, waitFor, type Reply } from './helpers.ts';

const ANNOTATION = 'emulator.stackoperator.dev/template';

function behaviour(props: Record<string, unknown>): string {
  return JSON.stringify({ resources: { web: { type: 'cf_process', properties: { value: JSON.stringify(props), ...props } } } });
}

describe('cloud foundry front-end', () => {
  let emu: Emulator;
  let token: string;
  const cf = (method: string, path: string, body?: unknown): Promise<Reply> =>
    call(`${emu.endpoints.cloudFoundry}${path}`, {
      method,
      headers: { authorization: `bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const app = async (name: string): Promise<string> => {
    const r = await cf('POST', '/v3/apps', { name, relationships: { space: { data: { guid: emu.credentials.cloudFoundry.spaceGuid } } } });
    expect(r.status).toBe(201);
    return r.body.guid as string;
  };
  const droplet = async (appGuid: string, props: Record<string, unknown>): Promise<string> => {
    const r = await cf('POST', '/v3/droplets', { relationships: { app: { data: { guid: appGuid } } }, metadata: { annotations: { [ANNOTATION]: behaviour(props) } } });
    expect(r.status).toBe(201);
    return r.body.guid as string;
  };
  const deploy = async (appGuid: string, dropletGuid: string, extra: Record<string, unknown> = {}): Promise<any> => {
    const r = await cf('POST', '/v3/deployments', { relationships: { app: { data: { guid: appGuid } } }, droplet: { guid: dropletGuid }, ...extra });
    expect(r.status).toBe(201);
    return r.body;
  };
  const until = (guid: string, reason: string): Promise<any> =>
    waitFor(async () => {
      const d = (await cf('GET', `/v3/deployments/${guid}`)).body;
      return d.status.reason === reason ? d : undefined;
    }, `deployment ${reason}`);

  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01 });
    token = (await uaaToken(emu)).access_token as string;
  });
  afterAll(async () => {
    await emu.close();
  });

  it('UAA grants: client_credentials, password + refresh_token, bad credentials', async () => {
    const pw = await uaaToken(emu, 'password');
    expect(pw).toMatchObject({ token_type: 'bearer' });
    expect(pw.refresh_token).toBeTruthy();
    const cfc = emu.credentials.cloudFoundry;
    const refreshed = await call(`${emu.endpoints.uaa}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${cfc.passwordClientId}:`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pw.refresh_token }).toString(),
    });
    expect(refreshed.status).toBe(200);
    const bad = await call(`${emu.endpoints.uaa}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: cfc.clientId, client_secret: 'nope' }).toString(),
    });
    expect(bad.status).toBe(401);
    const root = await call(`${emu.endpoints.cloudFoundry}/`);
    expect(root.body.links.uaa.href).toBe(emu.endpoints.uaa);
  });

  it('rolling deployment -> DEPLOYED; a new deployment supersedes a running one', async () => {
    const a = await app('web');
    const d1 = await droplet(a, { wait_secs: 1e9 });
    const dep1 = await deploy(a, d1, { options: { max_in_flight: 2 } });
    expect(dep1.status).toMatchObject({ value: 'ACTIVE', reason: 'DEPLOYING' });
    expect(dep1.options.max_in_flight).toBe(2);
    const d2 = await droplet(a, { wait_secs: 1 });
    const dep2 = await deploy(a, d2);
    expect((await cf('GET', `/v3/deployments/${dep1.guid}`)).body.status).toMatchObject({ value: 'FINALIZED', reason: 'SUPERSEDED' });
    const done = await until(dep2.guid, 'DEPLOYED');
    expect(done.status.value).toBe('FINALIZED');
    expect(done.revision.version).toBe(2);
    const cancelDone = await cf('POST', `/v3/deployments/${dep2.guid}/actions/cancel`);
    expect(cancelDone.status).toBe(422);
    expect(cancelDone.body.errors[0]).toMatchObject({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Cannot cancel a deployment with status: FINALIZED and reason: DEPLOYED' });
    const current = await cf('GET', `/v3/apps/${a}/droplets/current`);
    expect(current.body.guid).toBe(d2);
    expect((await cf('GET', `/v3/apps/${a}/revisions`)).body.resources).toHaveLength(2);
    const bad = await cf('POST', '/v3/deployments', { relationships: { app: { data: { guid: a } } }, options: { max_in_flight: 0 } });
    expect(bad.status).toBe(422);
  });

  it('cancel -> CANCELING -> CANCELED reverts the droplet; canary pauses until continue; failing deployment keeps DEPLOYING with an error', async () => {
    const a = await app('canc');
    const good = await droplet(a, {});
    await until((await deploy(a, good)).guid, 'DEPLOYED');
    const slow = await droplet(a, { value: 'slow', action_wait_secs: { update: 1e9 }, fail_rollback: false });
    const dep = await deploy(a, slow);
    const c = await cf('POST', `/v3/deployments/${dep.guid}/actions/cancel`);
    expect(c.status).toBe(200);
    await until(dep.guid, 'CANCELED');
    expect((await cf('GET', `/v3/apps/${a}/droplets/current`)).body.guid).toBe(good);

    const canary = await deploy(a, await droplet(a, { value: 'canary' }), { strategy: 'canary' });
    await until(canary.guid, 'PAUSED');
    expect((await cf('POST', `/v3/deployments/${canary.guid}/actions/continue`)).status).toBe(200);
    await until(canary.guid, 'DEPLOYED');

    const failing = await deploy(a, await droplet(a, { value: 'boom', fail: true }));
    const f = await waitFor(async () => {
      const d = (await cf('GET', `/v3/deployments/${failing.guid}`)).body;
      return d.status.details.error ? d : undefined;
    }, 'error detail');
    expect(f.status).toMatchObject({ value: 'ACTIVE', reason: 'DEPLOYING' });
    expect((await cf('POST', `/v3/deployments/${failing.guid}/actions/cancel`)).status).toBe(200);
    await until(failing.guid, 'CANCELED');
  });

  it('DELETE app -> 202 + job; failing delete -> job FAILED; 401 and 429', async () => {
    const a = await app('gone');
    const del = await cf('DELETE', `/v3/apps/${a}`);
    expect(del.status).toBe(202);
    const jobUrl = del.headers.get('location')!;
    expect(jobUrl).toContain('/v3/jobs/');
    const job = await waitFor(async () => {
      const j = (await call(jobUrl, { headers: { authorization: `bearer ${token}` } })).body;
      return j.state === 'COMPLETE' ? j : undefined;
    }, 'job complete');
    expect(job.operation).toBe('app.delete');
    expect((await cf('GET', `/v3/apps/${a}`)).status).toBe(404);

    const b = await app('stuck');
    await until((await deploy(b, await droplet(b, { fail_delete: true }))).guid, 'DEPLOYED');
    const del2 = await cf('DELETE', `/v3/apps/${b}`);
    const failed = await waitFor(async () => {
      const j = (await call(del2.headers.get('location')!, { headers: { authorization: `bearer ${token}` } })).body;
      return j.state === 'FAILED' ? j : undefined;
    }, 'job failed');
    expect(failed.errors[0].title).toBe('CF-UnprocessableEntity');

    expect((await call(`${emu.endpoints.cloudFoundry}/v3/apps`)).body.errors[0].title).toBe('CF-NotAuthenticated');
    expect((await call(`${emu.endpoints.cloudFoundry}/v3/apps`, { headers: { authorization: 'bearer nope' } })).body.errors[0]).toMatchObject({ code: 1000, title: 'CF-InvalidAuthToken' });

    emu.control.setRateLimit({ services: { cloudFoundry: { requestsPerSecond: 0.2, burst: 1 } } });
    const ok = await cf('GET', '/v3/apps');
    expect(ok.headers.get('x-ratelimit-limit')).toBe('1');
    const t = await cf('GET', '/v3/apps');
    expect(t.status).toBe(429);
    expect(t.headers.get('retry-after')).toBe('5');
    expect(t.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(JSON.parse(t.text).errors[0]).toMatchObject({ code: 10013, title: 'CF-RateLimitExceeded' });
    emu.control.setRateLimit(null);
  });
});
