// Fault kinds for lost replies and eventual consistency (issue 14 item 8, issue 15 item 5), the provider
// clock offset, and the per-service ports at the real services' root paths (issue 15 item 1).
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, keystoneToken, rosRpc } from './helpers.ts';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const hot = { heat_template_version: '2018-08-31', resources: { r: { type: 'OS::Heat::Value', properties: { value: 'v' } } } };
const rosTemplate = JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: 'v' } } } });

async function control(e: Emulator, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(`${e.url}/_emulator${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return r.body;
}

describe('fault kinds', () => {
  it('reset-after: the create takes effect, then the connection is reset instead of the reply', async () => {
    emu = await startEmulator({ operationSpeed: 0 });
    await control(emu, 'POST', '/faults', { kind: 'reset-after', service: 'heat', operation: 'create', times: 1 });
    const { token } = await keystoneToken(emu);
    const h = { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' };
    const lost = await fetch(`${emu.endpoints.heat}/stacks`, { method: 'POST', headers: h, body: JSON.stringify({ stack_name: 'lost', template: hot }) }).then(
      () => 'replied',
      (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? e.message,
    );
    expect(lost).toBe('ECONNRESET');
    const stacks = (await control(emu, 'GET', '/stacks?provider=heat&name=lost')).stacks;
    expect(stacks).toHaveLength(1);
    const calls = (await control(emu, 'GET', '/calls?provider=heat&name=lost')).calls;
    expect(Object.values(calls).map((c: any) => c.create)).toEqual([1]);
    // the retry sees the stack the lost reply created
    expect((await call(`${emu.endpoints.heat}/stacks/lost`, { headers: h, redirect: 'manual' })).status).toBe(302);
  });

  it('hide-new: a new stack stays out of GET and list until delayMs has passed on the provider clock', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    emu = await startEmulator({ clock, operationSpeed: 0 });
    await control(emu, 'POST', '/faults', { kind: 'hide-new', service: 'ros', operation: 'CreateStack', delayMs: 30_000, times: 1 });
    const c = await rosRpc(emu, 'CreateStack', { StackName: 'late', TemplateBody: rosTemplate });
    expect(c.status).toBe(200);
    const id = c.body.StackId as string;
    expect((await rosRpc(emu, 'GetStack', { StackId: id })).body.Code).toBe('StackNotFound');
    expect((await rosRpc(emu, 'ListStacks', {})).body.TotalCount).toBe(0);
    expect((await control(emu, 'GET', `/stacks/${id}`)).name).toBe('late');
    clock.advance(30_000);
    expect((await rosRpc(emu, 'GetStack', { StackId: id })).body.StackName).toBe('late');
    expect((await rosRpc(emu, 'ListStacks', {})).body.TotalCount).toBe(1);
  });

  it('clock offset: the times a provider reports are shifted by offsetMs (here 5 s behind)', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 12, 0, 0));
    emu = await startEmulator({ clock, operationSpeed: 0 });
    expect(await control(emu, 'PUT', '/clock-offset', { offsetMs: -5_000 })).toEqual({ offsetMs: -5_000 });
    const c = await rosRpc(emu, 'CreateStack', { StackName: 'skew', TemplateBody: rosTemplate });
    const s = await rosRpc(emu, 'GetStack', { StackId: c.body.StackId });
    expect(s.body.CreateTime).toBe('2030-01-01T11:59:55');
    const { body } = await keystoneToken(emu);
    expect(body.token.issued_at).toMatch(/^2030-01-01T11:59:55/);
    expect((await control(emu, 'PUT', '/clock-offset', { offsetMs: 'soon' })).error).toContain('offsetMs');
  });
});

describe('service ports (the real root paths)', () => {
  it('keystone and heat on their own ports: the catalog points at the heat port, links stay on it', async () => {
    emu = await startEmulator({ servicePorts: true, operationSpeed: 0 });
    const se = emu.serviceEndpoints!;
    expect(new URL(se.keystone).pathname).toBe('/v3');
    const k = emu.credentials.keystone;
    const t = await call(`${se.keystone}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: k.username, domain: { name: k.userDomainName }, password: k.password } } }, scope: { project: { id: k.projectId } } } }),
    });
    expect(t.status).toBe(201);
    const heat = t.body.token.catalog.find((c: any) => c.type === 'orchestration').endpoints[0].url as string;
    expect(heat).toBe(se.heat);
    const h = { 'x-auth-token': t.headers.get('x-subject-token')!, 'content-type': 'application/json', accept: 'application/json' };
    const c = await call(`${heat}/stacks`, { method: 'POST', headers: h, body: JSON.stringify({ stack_name: 'ported', template: hot }) });
    expect(c.status).toBe(201);
    expect(c.body.stack.links[0].href).toBe(`${se.heat}/stacks/ported/${c.body.stack.id}`);
    // the prefixed URLs keep working on the shared port
    expect((await call(`${emu.endpoints.heat}/stacks/ported/${c.body.stack.id}`, { headers: h })).status).toBe(200);
  });

  it('cloud foundry and uaa on their own ports: the root document links UAA at its port', async () => {
    emu = await startEmulator({ servicePorts: true });
    const se = emu.serviceEndpoints!;
    const root = await call(`${se.cloudFoundry}/`);
    expect(root.body.links.uaa.href).toBe(se.uaa);
    expect(root.body.links.cloud_controller_v3.href).toBe(`${se.cloudFoundry}/v3`);
  });
});
