/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- tests read untyped JSON bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, keystoneToken, waitFor, type Reply } from './helpers.ts';

function tmpl(props: Record<string, unknown>): Record<string, unknown> {
  return {
    heat_template_version: '2018-08-31',
    parameters: { greeting: { type: 'string', default: 'hello' }, other: { type: 'string', default: 'o' } },
    resources: { r1: { type: 'OS::Heat::TestResource', properties: { value: { get_param: 'greeting' }, ...props } } },
    outputs: { out: { value: { get_attr: ['r1', 'output'] }, description: 'the value' } },
  };
}

describe('heat front-end', () => {
  let emu: Emulator;
  let token: string;
  const h = (extra: Record<string, string> = {}): Record<string, string> => ({ 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json', ...extra });
  const heat = (path: string, init: RequestInit = {}): Promise<Reply> => call(`${emu.endpoints.heat}${path}`, { ...init, headers: { ...h(), ...(init.headers as Record<string, string> | undefined) } });
  const create = async (name: string, props: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await heat('/stacks', { method: 'POST', body: JSON.stringify({ stack_name: name, template: tmpl(props), ...extra }) });
    expect(r.status).toBe(201);
    return r.body.stack.id as string;
  };
  const status = async (name: string, id: string): Promise<any> => (await heat(`/stacks/${name}/${id}`)).body.stack;
  const until = (name: string, id: string, want: string): Promise<any> =>
    waitFor(async () => {
      const s = await status(name, id);
      return s.stack_status === want ? s : undefined;
    }, `${name} ${want}`);

  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01 });
    token = (await keystoneToken(emu)).token;
  });
  afterAll(async () => {
    await emu.close();
  });

  it('keystone issues a scoped token with an orchestration endpoint; application credentials work', async () => {
    const { body } = await keystoneToken(emu);
    const orch = body.token.catalog.find((c: { type: string }) => c.type === 'orchestration');
    expect(orch.endpoints.find((e: { interface: string }) => e.interface === 'public').url).toBe(emu.endpoints.heat);
    const ac = await keystoneToken(emu, 'application_credential');
    expect(ac.body.token.project.id).toBe(emu.credentials.keystone.projectId);
    const bad = await call(`${emu.endpoints.keystone}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: emu.credentials.keystone.userId, password: 'wrong' } } } } }),
    });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe(401);
    expect((await call(emu.endpoints.keystone)).body.version.id).toMatch(/^v3/);
  });

  it('create -> CREATE_COMPLETE with outputs, 302 name redirect, 409 duplicate', async () => {
    const id = await create('web', { wait_secs: 50 }, { parameters: { greeting: 'hi' } });
    const s0 = await status('web', id);
    expect(s0.stack_status).toBe('CREATE_IN_PROGRESS');
    expect(s0.stack_status_reason).toBe('Stack CREATE started');
    const s = await until('web', id, 'CREATE_COMPLETE');
    expect(s.stack_status_reason).toBe('Stack CREATE completed successfully');
    expect(s.outputs).toEqual([{ output_key: 'out', output_value: 'hi', description: 'the value' }]);
    expect(s.parameters['OS::stack_id']).toBe(id);
    expect(s.disable_rollback).toBe(true);
    expect(s.timeout_mins).toBeNull();
    expect(s.tags).toEqual([]);

    const redirect = await heat('/stacks/web/events?limit=1');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${emu.endpoints.heat}/stacks/web/${id}/events?limit=1`);
    expect((await heat('/stacks/web', { method: 'DELETE' })).status).toBe(302);

    const dup = await heat('/stacks', { method: 'POST', body: JSON.stringify({ stack_name: 'web', template: tmpl({}) }) });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 409, title: 'Conflict', error: { type: 'StackExists', message: 'The Stack (web) already exists.' } });
    expect(dup.headers.get('x-openstack-request-id')).toMatch(/^req-/);

    const out = await heat(`/stacks/web/${id}/outputs/out`);
    expect(out.body.output.output_value).toBe('hi');
    const events = await heat(`/stacks/web/${id}/events`);
    expect(events.body.events.map((e: { resource_status: string }) => e.resource_status)).toContain('CREATE_COMPLETE');
    const resources = await heat(`/stacks/web/${id}/resources`);
    expect(resources.body.resources[0]).toMatchObject({ resource_name: 'r1', resource_status: 'CREATE_COMPLETE', resource_type: 'OS::Heat::TestResource' });
    const missing = await heat('/stacks/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ type: 'EntityNotFound', message: 'The Stack (nope) could not be found.' });
  });

  it('PATCH merges parameters; PUT falls back to defaults; 202 body', async () => {
    const id = await create('params', {}, { parameters: { greeting: 'a', other: 'b' } });
    await until('params', id, 'CREATE_COMPLETE');
    const p = await heat(`/stacks/params/${id}`, { method: 'PATCH', body: JSON.stringify({ parameters: { other: 'c' } }) });
    expect(p.status).toBe(202);
    expect(p.body).toMatchObject({ code: '202 Accepted', title: 'Accepted' });
    let s = await until('params', id, 'UPDATE_COMPLETE');
    expect(s.parameters).toMatchObject({ greeting: 'a', other: 'c' });
    await heat(`/stacks/params/${id}`, { method: 'PUT', body: JSON.stringify({ template: tmpl({}), parameters: { other: 'd' } }) });
    s = await waitFor(async () => {
      const x = await status('params', id);
      return x.stack_status === 'UPDATE_COMPLETE' && x.parameters.other === 'd' ? x : undefined;
    }, 'PUT');
    expect(s.parameters.greeting).toBe('hello');
    const bad = await heat(`/stacks/params/${id}`, { method: 'PATCH', body: JSON.stringify({ parameters: { nope: 1 } }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe('UnknownUserParameter');
  });

  it('update -> cancel_update -> ROLLBACK_COMPLETE; cancel rules', async () => {
    const id = await create('cancel', {});
    await until('cancel', id, 'CREATE_COMPLETE');
    const notNow = await heat(`/stacks/cancel/${id}/actions`, { method: 'POST', body: JSON.stringify({ cancel_update: null }) });
    expect(notNow.status).toBe(400);
    expect(notNow.body.error).toMatchObject({ type: 'NotSupported', message: 'Cancelling update when stack is CREATE_COMPLETE is not supported.' });
    await heat(`/stacks/cancel/${id}`, { method: 'PATCH', body: JSON.stringify({ template: tmpl({ action_wait_secs: { update: 50 } }), parameters: { greeting: 'new' } }) });
    await until('cancel', id, 'UPDATE_IN_PROGRESS');
    const two = await heat(`/stacks/cancel/${id}/actions`, { method: 'POST', body: JSON.stringify({ cancel_update: null, check: null }) });
    expect(two.status).toBe(400);
    const ok = await heat(`/stacks/cancel/${id}/actions`, { method: 'POST', body: JSON.stringify({ cancel_update: null }) });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('null');
    // like Heat, the rollback waits for the in-flight resource update; the old parameters show at once
    const rolling = await status('cancel', id);
    expect(rolling.stack_status).toBe('ROLLBACK_IN_PROGRESS');
    expect(rolling.parameters.greeting).toBe('hello');
    const again = await heat(`/stacks/cancel/${id}/actions`, { method: 'POST', body: JSON.stringify({ cancel_update: null }) });
    expect(again.body.error.message).toBe('Cancelling update when stack is ROLLBACK_IN_PROGRESS is not supported.');
    const s = await until('cancel', id, 'ROLLBACK_COMPLETE');
    expect(s.outputs[0].output_value).toBe('hello');

    await heat(`/stacks/cancel/${id}`, { method: 'PATCH', body: JSON.stringify({ template: tmpl({ wait_secs: 1e9 }), parameters: { greeting: 'again' } }) });
    await heat(`/stacks/cancel/${id}/actions`, { method: 'POST', body: JSON.stringify({ cancel_without_rollback: null }) });
    const f = await until('cancel', id, 'UPDATE_FAILED');
    expect(f.stack_status_reason).toBe('Stack UPDATE cancelled');
    const calls = emu.engine.mutationCounts('heat', 'cancel');
    expect(Object.values(calls)[0]).toMatchObject({ create: 1, update: 2, cancel: 2, rejected: 2 });
  });

  it('failure rolls back when disable_rollback=false; delete -> DELETE_COMPLETE then 404 by name', async () => {
    const id = await create('failing', { fail: true, wait_secs: 1 }, { disable_rollback: false });
    const s = await until('failing', id, 'ROLLBACK_COMPLETE');
    expect(s.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
    const evs = await heat(`/stacks/failing/${id}/events?resource_name=failing`);
    expect(evs.body.events.map((e: { resource_status: string }) => e.resource_status)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE']);
    expect(evs.body.events[1].resource_status_reason).toBe('Resource CREATE failed: ValueError: resources.r1: Test Resource failed r1');
    const d = await heat(`/stacks/failing/${id}`, { method: 'DELETE' });
    expect(d.status).toBe(204);
    await until('failing', id, 'DELETE_COMPLETE');
    expect((await heat('/stacks/failing')).status).toBe(404);
    expect((await heat(`/stacks/failing/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await heat('/stacks')).body.stacks.find((x: { id: string }) => x.id === id)).toBeUndefined();
  });

  it('invalid templates give Heat validation errors', async () => {
    const r = await heat('/stacks', { method: 'POST', body: JSON.stringify({ stack_name: 'bad', template: { heat_template_version: '2099-01-01' } }) });
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('InvalidTemplateVersion');
    const r2 = await heat('/stacks', { method: 'POST', body: JSON.stringify({ stack_name: 'bad', template: 'heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Nova::Server\n' }) });
    expect(r2.body.error.type).toBe('StackValidationFailed');
    const r3 = await heat('/stacks', { method: 'POST', body: JSON.stringify({ stack_name: 'bad' }) });
    expect(r3.status).toBe(400);
  });

  it('401 without a token and after token expiry', async () => {
    const none = await call(`${emu.endpoints.heat}/stacks`);
    expect(none.status).toBe(401);
    const t = await keystoneToken(emu);
    expect((await call(`${emu.endpoints.heat}/stacks`, { headers: { 'x-auth-token': t.token } })).status).toBe(200);
    const r = await call(`${emu.url}/_emulator/tokens/expire`, { method: 'POST', body: JSON.stringify({ kind: 'keystone' }) });
    expect(r.body.expired).toBeGreaterThan(0);
    expect((await call(`${emu.endpoints.heat}/stacks`, { headers: { 'x-auth-token': t.token } })).status).toBe(401);
    token = (await keystoneToken(emu)).token;
    expect((await heat('/stacks')).status).toBe(200);
  });

  it('throttling with Retry-After, injected faults, control API', async () => {
    const set = await call(`${emu.url}/_emulator/rate-limit`, { method: 'PUT', body: JSON.stringify({ services: { heat: { requestsPerSecond: 0.5, burst: 2 } } }) });
    expect(set.status).toBe(204);
    const codes: number[] = [];
    let last: Reply | undefined;
    for (let i = 0; i < 4; i++) {
      last = await heat('/stacks');
      codes.push(last.status);
    }
    expect(codes.slice(0, 2)).toEqual([200, 200]);
    expect(codes[3]).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await call(`${emu.url}/_emulator/rate-limit`, { method: 'PUT', body: 'null' });

    await call(`${emu.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ service: 'heat', operation: 'list', kind: 'error', status: 503, times: 1 }) });
    const f = await heat('/stacks');
    expect(f.status).toBe(503);
    expect(f.body.code).toBe(503);
    expect((await heat('/stacks')).status).toBe(200);
    await call(`${emu.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ service: 'heat', operation: 'list', kind: 'drop', times: 1 }) });
    await expect(heat('/stacks')).rejects.toThrow();

    const stacks = await call(`${emu.url}/_emulator/stacks?provider=heat&name=web`);
    expect(stacks.body.stacks[0]).toMatchObject({ name: 'web', state: 'CREATE_COMPLETE' });
    const calls = await call(`${emu.url}/_emulator/calls?provider=heat&name=web`);
    expect(Object.values(calls.body.calls)[0]).toMatchObject({ create: 1, rejected: 1 });
  });
});

describe('keystone token TTL with an injected clock', () => {
  it('a token past its TTL gets 401 from heat; a new one works', async () => {
    const clock = new FakeClock(Date.now());
    const emu = await startEmulator({ clock, credentials: { keystone: { tokenTtlSeconds: 60 } } });
    try {
      const { token, body } = await keystoneToken(emu);
      expect(Date.parse(body.token.expires_at) - clock.now()).toBe(60_000);
      expect((await call(`${emu.endpoints.heat}/stacks`, { headers: { 'x-auth-token': token } })).status).toBe(200);
      clock.advance(60_001);
      const r = await call(`${emu.endpoints.heat}/stacks`, { headers: { 'x-auth-token': token } });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      const fresh = await keystoneToken(emu);
      expect((await call(`${emu.endpoints.heat}/stacks`, { headers: { 'x-auth-token': fresh.token } })).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});
