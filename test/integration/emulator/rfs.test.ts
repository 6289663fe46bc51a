/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- tests read untyped JSON bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { rfsCall, waitFor } from './helpers.ts';

function tf(props: Record<string, unknown>): string {
  return JSON.stringify({
    variable: { name: { default: 'd' } },
    resource: { test_resource: { a: { value: '${var.name}', ...props } } },
    output: { o: { value: '${test_resource.a.output}' }, s: { value: 'secret', sensitive: true } },
  });
}

describe('rfs front-end', () => {
  let emu: Emulator;
  const meta = async (name: string): Promise<any> => (await rfsCall(emu, 'GET', `/stacks/${name}/metadata`)).body;
  const until = (name: string, want: string): Promise<any> =>
    waitFor(async () => {
      const m = await meta(name);
      return m.status === want ? m : undefined;
    }, `${name} ${want}`);

  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('create without template -> CREATION_COMPLETE; deploy -> DEPLOYMENT_COMPLETE with outputs', async () => {
    const c = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'empty' });
    expect(c.status).toBe(201);
    expect(c.body.deployment_id).toBeUndefined();
    const id = c.body.stack_id as string;
    expect((await meta('empty')).status).toBe('CREATION_COMPLETE');
    const d = await rfsCall(emu, 'POST', '/stacks/empty/deployments', { stack_id: id, template_body: tf({ wait_secs: 50 }), vars_structure: [{ var_key: 'name', var_value: 'x' }] });
    expect(d.status).toBe(202);
    expect(d.body.deployment_id).toBeTruthy();
    expect((await meta('empty')).status).toBe('DEPLOYMENT_IN_PROGRESS');
    expect((await rfsCall(emu, 'GET', `/stacks/empty/outputs?stack_id=${id}`)).body.outputs).toEqual([]);
    const busy = await rfsCall(emu, 'POST', '/stacks/empty/deployments', { template_body: tf({}) });
    expect(busy.status).toBe(409);
    expect(busy.body.error_code).toBe('RF.10013503');
    await until('empty', 'DEPLOYMENT_COMPLETE');
    const outs = await rfsCall(emu, 'GET', '/stacks/empty/outputs');
    expect(outs.body.outputs).toEqual([
      { name: 'o', description: '', type: 'string', value: '"x"', sensitive: false },
      { name: 's', description: '', type: '<sensitive>', value: '<sensitive>', sensitive: true },
    ]);
    const evs = await rfsCall(emu, 'GET', `/stacks/empty/events?deployment_id=${d.body.deployment_id}&filter=event_type==CREATION_COMPLETE|event_type==SUMMARY`);
    expect(evs.body.stack_events.map((e: { event_type: string }) => e.event_type)).toEqual(['SUMMARY', 'CREATION_COMPLETE']);
    const mismatch = await rfsCall(emu, 'GET', '/stacks/empty/metadata?stack_id=00000000-0000-0000-0000-000000000000');
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error_code).toBe('RF.10011015');
  });

  it('HCL template, failure with auto rollback, failure without', async () => {
    const hcl = 'variable "name" {\n  default = "h"\n}\nresource "test_resource" "a" {\n  value = var.name\n  fail = true\n}\n';
    const c = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'auto', template_body: hcl, enable_auto_rollback: true });
    expect(c.status).toBe(201);
    expect(c.body.deployment_id).toBeTruthy();
    await until('auto', 'ROLLBACK_COMPLETE');
    await rfsCall(emu, 'POST', '/stacks', { stack_name: 'manual', template_body: tf({ fail: true }) });
    const m = await until('manual', 'DEPLOYMENT_FAILED');
    expect(m.status_message).toMatch(/Test Resource failed/);
    const bad = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'bad', template_body: 'this is not a template' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('RF.10011073');
  });

  it('deletion protection, in-progress delete, stack_id guard, retain_all_resources', async () => {
    const c = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'prot', template_body: tf({ action_wait_secs: { create: 2, delete: 2 } }), enable_deletion_protection: true });
    const id = c.body.stack_id as string;
    const inProgress = await rfsCall(emu, 'DELETE', `/stacks/prot?stack_id=${id}`);
    expect(inProgress.status).toBe(403);
    expect(inProgress.body.error_code).toBe('RF.10012544');
    await until('prot', 'DEPLOYMENT_COMPLETE');
    const prot = await rfsCall(emu, 'DELETE', `/stacks/prot?stack_id=${id}`);
    expect(prot.status).toBe(403);
    expect((await rfsCall(emu, 'PATCH', '/stacks/prot', { stack_id: id })).body.error_code).toBe('RF.10011084');
    expect((await rfsCall(emu, 'PATCH', '/stacks/prot', { stack_id: id, enable_deletion_protection: false })).status).toBe(204);
    expect((await meta('prot')).enable_deletion_protection).toBe(false);
    const guard = await rfsCall(emu, 'DELETE', '/stacks/prot?stack_id=11111111-1111-1111-1111-111111111111');
    expect(guard.status).toBe(400);
    const del = await rfsCall(emu, 'DELETE', `/stacks/prot?stack_id=${id}`);
    expect(del.status).toBe(202);
    expect((await meta('prot')).status).toBe('DELETION_IN_PROGRESS');
    await waitFor(async () => ((await rfsCall(emu, 'GET', '/stacks/prot/metadata')).status === 404 ? true : undefined), 'gone');
    const gone = await rfsCall(emu, 'GET', '/stacks/prot/metadata');
    expect(gone.body.error_code).toBe('RF.10013001');

    const r = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'keep', template_body: tf({ action_wait_secs: { delete: 1e9 } }) });
    await until('keep', 'DEPLOYMENT_COMPLETE');
    expect((await rfsCall(emu, 'POST', '/stacks/keep/deletion', { stack_id: r.body.stack_id, retain_all_resources: true })).status).toBe(202);
    await waitFor(async () => ((await rfsCall(emu, 'GET', '/stacks/keep/metadata')).status === 404 ? true : undefined), 'keep gone');
  });

  it('signature, Client-Request-Id and throttling', async () => {
    const bad = await rfsCall(emu, 'GET', '/stacks', undefined, { sk: 'wrong-secret' });
    expect(bad.status).toBe(401);
    expect(bad.body.error_code).toBe('APIGW.0301');
    const short = await rfsCall(emu, 'GET', '/stacks', undefined, { headers: { 'client-request-id': 'short' } });
    expect(short.status).toBe(400);
    expect(short.body.error_code).toBe('RF.10011001');
    emu.addAccessKey('rfs', 'OTHERAK', 'other-sk');
    emu.control.setRateLimit({ services: { rfs: { requestsPerSecond: 0.1, burst: 1 } } });
    expect((await rfsCall(emu, 'GET', '/stacks')).status).toBe(200);
    const t = await rfsCall(emu, 'GET', '/stacks');
    expect(t.status).toBe(429);
    expect(t.body.error_code).toBe('RF.10014001');
    emu.control.setRateLimit(null);
  });
});
