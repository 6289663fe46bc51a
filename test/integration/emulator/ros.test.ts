/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, rosRpc, signRoa, waitFor, type Reply } from './helpers.ts';

function tmpl(props: Record<string, unknown>): string {
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: { Greeting: { Type: 'String', Default: 'hello' }, Other: { Type: 'String', Default: 'o' } },
    Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: { Ref: 'Greeting' }, ...props } } },
    Outputs: { Out: { Value: { 'Fn::GetAtt': ['R', 'output'] } } },
  });
}

describe('ros front-end (RPC 2019-09-10)', () => {
  let emu: Emulator;
  const get = async (id: string): Promise<any> => (await rosRpc(emu, 'GetStack', { StackId: id })).body;
  const until = (id: string, want: string): Promise<any> =>
    waitFor(async () => {
      const s = await get(id);
      return s.Status === want ? s : undefined;
    }, `${id} ${want}`);

  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01, rosSafeCancelDelayMs: 0 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('CreateStack with flattened parameters (ACS3 and v1 signatures), ClientToken replay and mismatch', async () => {
    const params = { StackName: 'app', TemplateBody: tmpl({ wait_secs: 2 }), 'Parameters.1.ParameterKey': 'Greeting', 'Parameters.1.ParameterValue': 'hi', 'Tags.1.Key': 'owner', 'Tags.1.Value': 'me', ClientToken: 'tok-1' };
    const c = await rosRpc(emu, 'CreateStack', params);
    expect(c.status).toBe(200);
    expect(c.body.RequestId).toBeTruthy();
    const id = c.body.StackId as string;
    const replay = await rosRpc(emu, 'CreateStack', params, { v1: true });
    expect(replay.status).toBe(200);
    expect(replay.body.StackId).toBe(id);
    const mismatch = await rosRpc(emu, 'CreateStack', { ...params, 'Parameters.1.ParameterValue': 'other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.Code).toBe('InvalidIdempotenceParameter');
    expect(Object.values(emu.engine.mutationCounts('ros', 'app'))[0]).toMatchObject({ create: 1 });
    const s = await until(id, 'CREATE_COMPLETE');
    expect(s.Outputs).toEqual([{ OutputKey: 'Out', OutputValue: 'hi', Description: '' }]);
    expect(s.Tags).toEqual([{ Key: 'owner', Value: 'me' }]);
    expect(s.CreateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(s.Parameters).toContainEqual({ ParameterKey: 'ALIYUN::StackId', ParameterValue: id });
    const dup = await rosRpc(emu, 'CreateStack', { StackName: 'app', TemplateBody: tmpl({}) });
    expect(dup.status).toBe(409);
    expect(dup.body.Code).toBe('StackExists');
    const nf = await rosRpc(emu, 'GetStack', { StackId: 'nope' });
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ Code: 'StackNotFound', Message: 'The Stack (nope) could not be found.' });
  });

  it('UpdateStack with UsePreviousParameters, ActionInProgress, CancelUpdateStack -> ROLLBACK_COMPLETE', async () => {
    const c = await rosRpc(emu, 'CreateStack', { StackName: 'upd', TemplateBody: tmpl({}), 'Parameters.1.ParameterKey': 'Greeting', 'Parameters.1.ParameterValue': 'one', 'Parameters.2.ParameterKey': 'Other', 'Parameters.2.ParameterValue': 'keep' });
    const id = c.body.StackId as string;
    await until(id, 'CREATE_COMPLETE');
    const same = await rosRpc(emu, 'UpdateStack', { StackId: id, UsePreviousParameters: 'true' });
    expect(same.body.Code).toBe('NotSupported');
    const u = await rosRpc(emu, 'UpdateStack', { StackId: id, TemplateBody: tmpl({ action_wait_secs: { update: -1 } }), UsePreviousParameters: 'true', 'Parameters.1.ParameterKey': 'Greeting', 'Parameters.1.ParameterValue': 'two' });
    expect(u.status).toBe(200);
    const running = await get(id);
    expect(running.Status).toBe('UPDATE_IN_PROGRESS');
    expect(running.Parameters).toContainEqual({ ParameterKey: 'Other', ParameterValue: 'keep' });
    const busy = await rosRpc(emu, 'UpdateStack', { StackId: id, TemplateBody: tmpl({}) });
    expect(busy.status).toBe(409);
    expect(busy.body.Code).toBe('ActionInProgress');
    const busyDelete = await rosRpc(emu, 'DeleteStack', { StackId: id });
    expect(busyDelete.body.Code).toBe('ActionInProgress');
    expect((await rosRpc(emu, 'CancelUpdateStack', { StackId: id, CancelType: 'Quick' })).status).toBe(200);
    const s = await until(id, 'ROLLBACK_COMPLETE');
    expect(s.Outputs[0].OutputValue).toBe('one');
    const late = await rosRpc(emu, 'CancelUpdateStack', { StackId: id });
    expect(late.status).toBe(400);
    const evs = await rosRpc(emu, 'ListStackEvents', { StackId: id, 'LogicalResourceId.1': 'upd', PageSize: '50' });
    expect(evs.body.Events[0].Status).toBe('ROLLBACK_COMPLETE');
  });

  it('create failure -> CREATE_ROLLBACK_COMPLETE; DisableRollback -> CREATE_FAILED', async () => {
    const a = await rosRpc(emu, 'CreateStack', { StackName: 'fa', TemplateBody: tmpl({ fail: true }) });
    await until(a.body.StackId, 'CREATE_ROLLBACK_COMPLETE');
    const b = await rosRpc(emu, 'CreateStack', { StackName: 'fb', TemplateBody: tmpl({ fail: true }), DisableRollback: 'true' });
    const s = await until(b.body.StackId, 'CREATE_FAILED');
    expect(s.StatusReason).toMatch(/Test Resource failed R/);
    const bad = await rosRpc(emu, 'CreateStack', { StackName: 'fc', TemplateBody: '{"ROSTemplateFormatVersion": "2000-01-01"}' });
    expect(bad.body.Code).toBe('InvalidTemplateVersion');
  });

  it('deletion protection and delete', async () => {
    const c = await rosRpc(emu, 'CreateStack', { StackName: 'prot', TemplateBody: tmpl({}), DeletionProtection: 'Enabled' });
    const id = c.body.StackId as string;
    await until(id, 'CREATE_COMPLETE');
    const d = await rosRpc(emu, 'DeleteStack', { StackId: id });
    expect(d.status).toBe(400);
    expect(d.body.Code).toBe('InvalidOperation.DeletionProtection');
    expect((await rosRpc(emu, 'SetDeletionProtection', { StackId: id, DeletionProtection: 'Disabled' })).status).toBe(200);
    expect((await get(id)).DeletionProtection).toBe('Disabled');
    expect((await rosRpc(emu, 'DeleteStack', { StackId: id })).status).toBe(200);
    await waitFor(async () => ((await rosRpc(emu, 'GetStack', { StackId: id })).status === 404 ? true : undefined), 'deleted');
  });

  it('rejects bad signatures, unknown keys and reused nonces; throttles', async () => {
    const bad = await rosRpc(emu, 'GetStack', { StackId: 'x' }, { secret: 'wrong' });
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('SignatureDoesNotMatch');
    const badV1 = await rosRpc(emu, 'GetStack', { StackId: 'x' }, { v1: true, secret: 'wrong' });
    expect(badV1.body.Code).toBe('SignatureDoesNotMatch');
    const unsigned = await call(`${emu.endpoints.ros}?Action=GetStack&Version=2019-09-10`);
    expect(unsigned.body.Code).toBe('IncompleteSignature');
    emu.control.setRateLimit({ services: { ros: { requestsPerSecond: 0.1, burst: 1 } } });
    await rosRpc(emu, 'ListStacks', {});
    const t = await rosRpc(emu, 'ListStacks', {});
    expect(t.body.Code).toBe('Throttling.User');
    emu.control.setRateLimit(null);
  });
});

describe('ros legacy REST (2015-09-01)', () => {
  let emu: Emulator;
  const legacy = (method: string, path: string, body?: unknown, secret?: string): Promise<Reply> => {
    const url = `${emu.endpoints.rosLegacy}${path}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signRoa(method, url, text, emu.credentials.ros.accessKeyId, secret ?? emu.credentials.ros.secretAccessKey, emu.credentials.ros.regionId);
    return call(url, { method, headers, ...(text ? { body: text } : {}) });
  };
  const template = (v: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: v, ...extra } } },
    Outputs: { Out: { Value: { 'Fn::GetAtt': ['R', 'output'] } } },
  });

  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('create, show, update (PUT), delete; signature rejection', async () => {
    const c = await legacy('POST', '/stacks', { Name: 'old', Template: template('a'), Parameters: {}, TimeoutMins: 30 });
    expect(c.status).toBe(201);
    const id = c.body.Id as string;
    const show = (): Promise<Reply> => legacy('GET', `/stacks/old/${id}`);
    await waitFor(async () => ((await show()).body.Status === 'CREATE_COMPLETE' ? true : undefined), 'created');
    const u = await legacy('PUT', `/stacks/old/${id}`, { Template: template('b', { wait_secs: 1e9 }), Parameters: {}, TimeoutMins: 30 });
    expect(u.status).toBe(200);
    expect(u.body).toEqual({ Id: id, Name: 'old' });
    const busy = await legacy('PUT', `/stacks/old/${id}`, { Template: template('c'), Parameters: {} });
    expect(busy.status).toBe(409);
    expect(busy.body.Code).toBe('ActionInProgress');
    // visible through the RPC API too, and cancellable there
    expect((await rosRpc(emu, 'CancelUpdateStack', { StackId: id, CancelType: 'Quick' })).status).toBe(200);
    await waitFor(async () => ((await show()).body.Status === 'ROLLBACK_COMPLETE' ? true : undefined), 'rolled back');
    expect((await show()).body.Outputs[0].OutputValue).toBe('a');
    const find = await legacy('GET', '/stacks/old');
    expect(find.status).toBe(302);
    expect((await legacy('DELETE', `/stacks/old/${id}`)).status).toBe(204);
    await waitFor(async () => ((await show()).status === 404 ? true : undefined), 'deleted');
    const bad = await legacy('GET', '/stacks', undefined, 'wrong');
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('SignatureDoesNotMatch');
  });

  it('a parameter the 2015-09-01 API does not have is 404 NotSupported "<feature> is not supported." (seed 003)', async () => {
    const c = await legacy('POST', '/stacks', { Name: 'old2', Template: template('a'), TemplateURL: 'http://127.0.0.1:1/t.json' });
    expect([c.status, c.body.Code, c.body.Message]).toEqual([404, 'NotSupported', 'TemplateURL is not supported.']);
    const ok = await legacy('POST', '/stacks', { Name: 'old2', Template: template('a') });
    const u = await legacy('PUT', `/stacks/old2/${ok.body.Id}`, { Template: template('b'), UsePreviousParameters: true });
    expect([u.status, u.body.Code]).toEqual([404, 'NotSupported']);
  });
});
