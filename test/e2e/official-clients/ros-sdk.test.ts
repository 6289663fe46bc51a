// Alibaba ROS conformance, driven by Alibaba's official Node SDK (@alicloud/ros20190910 on
// @alicloud/openapi-core), unchanged, against the emulator's ROS port (--service-ports: the SDK always
// signs the path "/"). Nothing here signs or builds a request by our own code, except the last test,
// which sends by hand a request whose Authorization the official signer (OpenApiUtil.getAuthorization)
// computed, to cover header forms the SDK itself never sends (repeated headers, mixed case).
// Semantics come from seed 004 (UpdateStack API reference) and docs/fidelity.md lists each check.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as core from '@alicloud/openapi-core';
import * as ros from '@alicloud/ros20190910';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';

// The package is CommonJS with `exports.default = Client`: node's ESM loader puts the class one level
// down, vitest's interop at the top.
type RosSdk = InstanceType<typeof ros.default.default>;
const rosMod = ros.default as unknown as typeof ros.default.default | { default: typeof ros.default.default };
const RosClient = 'default' in rosMod ? rosMod.default : rosMod;
const { $OpenApiUtil, OpenApiUtil } = core;

let emu: Emulator;
let sdk: RosSdk;
let region: string;
let files: Server;
let filesUrl: string;
const served = new Map<string, string>();

function client(secret = emu.credentials.ros.secretAccessKey): RosSdk {
  const endpoint = new URL(emu.serviceEndpoints!.ros).host;
  const config = new $OpenApiUtil.Config({ accessKeyId: emu.credentials.ros.accessKeyId, accessKeySecret: secret, endpoint, protocol: 'http', regionId: region });
  return new RosClient(config);
}

const tmpl = (props: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: { Greeting: { Type: 'String', Default: 'hello' }, Other: { Type: 'String', Default: 'o' } },
    Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: { Ref: 'Greeting' }, ...props } }, ...extra },
    Outputs: { Greeting: { Value: { Ref: 'Greeting' } }, Other: { Value: { Ref: 'Other' } } },
  });

const params = (p: Record<string, string>) => Object.entries(p).map(([parameterKey, parameterValue]) => new ros.UpdateStackRequestParameters({ parameterKey, parameterValue }));

async function sdkError(p: Promise<unknown>): Promise<{ code: string; statusCode: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; statusCode: number; message: string };
  }
  throw new Error('the SDK call succeeded');
}

async function status(stackId: string): Promise<string> {
  return (await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId }))).body!.status!;
}

async function until(stackId: string, want: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await status(stackId)) === want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stack ${stackId} never reached ${want} (now ${await status(stackId)})`);
}

async function create(name: string, extra: Partial<ConstructorParameters<typeof ros.CreateStackRequest>[0]> = {}): Promise<string> {
  const r = await sdk.createStack(new ros.CreateStackRequest({ regionId: region, stackName: name, templateBody: tmpl(), ...extra }));
  return r.body!.stackId!;
}

beforeAll(async () => {
  emu = await startEmulator({ servicePorts: true, operationSpeed: 0.01 });
  region = emu.credentials.ros.regionId;
  sdk = client();
  files = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emu?.close();
  if (files) await new Promise((r) => files.close(r));
});

describe('Alibaba ROS with the official Node SDK', () => {
  it('CreateStack with a ClientToken: a replay answers the same stack, a different request with it is refused, a bad token is invalid', async () => {
    const req = () => new ros.CreateStackRequest({ regionId: region, stackName: 'tok', templateBody: tmpl(), clientToken: 'tok-123_A' });
    const a = await sdk.createStack(req());
    const b = await sdk.createStack(req());
    expect(b.body!.stackId).toBe(a.body!.stackId);
    const calls = (await (await fetch(`${emu.url}/_emulator/calls?provider=ros&name=tok`)).json()) as { calls: Record<string, { create: number }> };
    expect(Object.values(calls.calls)[0]!.create).toBe(1);
    const other = await sdkError(sdk.createStack(new ros.CreateStackRequest({ regionId: region, stackName: 'tok2', templateBody: tmpl(), clientToken: 'tok-123_A' })));
    expect(other.code).toBe('InvalidIdempotenceParameter');
    for (const bad of ['has space', 'x'.repeat(65), 'dot.ted']) {
      const e = await sdkError(sdk.createStack(new ros.CreateStackRequest({ regionId: region, stackName: 'tok3', templateBody: tmpl(), clientToken: bad })));
      expect(e.code).toBe('InvalidParameter');
    }
  });

  it('GetStack: parameters and tags with empty values are signed and accepted; outputs once complete', async () => {
    const id = await create('get', {
      parameters: [new ros.CreateStackRequestParameters({ parameterKey: 'Other', parameterValue: '' })],
      tags: [new ros.CreateStackRequestTags({ key: 'team', value: '' })],
    });
    await until(id, 'CREATE_COMPLETE');
    const s = (await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: id }))).body!;
    expect(s.stackName).toBe('get');
    expect(s.parameters!.find((p) => p.parameterKey === 'Other')!.parameterValue).toBe('');
    expect(s.tags).toEqual([expect.objectContaining({ key: 'team', value: '' })]);
    expect(s.outputs).toEqual(expect.arrayContaining([expect.objectContaining({ OutputKey: 'Greeting', OutputValue: 'hello' })]));
  });

  it('ListStacks pages: TotalCount, PageNumber and PageSize as sent', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await create(n);
    const page = async (pageNumber: number) => (await sdk.listStacks(new ros.ListStacksRequest({ regionId: region, pageSize: 2, pageNumber, stackName: ['page-a', 'page-b', 'page-c'] }))).body!;
    const p1 = await page(1);
    const p2 = await page(2);
    expect(p1.totalCount).toBe(3);
    expect(p1.stacks).toHaveLength(2);
    expect(p2.stacks).toHaveLength(1);
    expect(new Set([...p1.stacks!, ...p2.stacks!].map((s) => s.stackName))).toEqual(new Set(['page-a', 'page-b', 'page-c']));
  });

  it('UpdateStack: Parameters.N with UsePreviousParameters keeps the others; an unchanged update is NotSupported, also with Tags', async () => {
    const id = await create('upd', { parameters: [new ros.CreateStackRequestParameters({ parameterKey: 'Other', parameterValue: 'kept' })] });
    await until(id, 'CREATE_COMPLETE');
    await sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), usePreviousParameters: true, parameters: params({ Greeting: 'hi' }) }));
    await until(id, 'UPDATE_COMPLETE');
    const s = (await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: id }))).body!;
    expect(Object.fromEntries(s.outputs!.map((o) => [o.OutputKey, o.OutputValue]))).toMatchObject({ Greeting: 'hi', Other: 'kept' });
    const same = await sdkError(sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), usePreviousParameters: true })));
    expect([same.statusCode, same.code]).toEqual([400, 'NotSupported']);
    expect(same.message).toContain('Update the completely same stack');
    const withTags = await sdkError(
      sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), usePreviousParameters: true, tags: [new ros.UpdateStackRequestTags({ key: 'k', value: 'v' })] })),
    );
    expect(withTags.code).toBe('NotSupported');
  });

  it('UpdateStack: DisableRollback does not take effect during an update (a failed update rolls back)', async () => {
    const id = await create('norb', { disableRollback: true });
    await until(id, 'CREATE_COMPLETE');
    await sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl({ fail: true }), disableRollback: true }));
    await until(id, 'ROLLBACK_COMPLETE');
  });

  it('stack policy: enforced on update, overridden by StackPolicyDuringUpdateBody; Body and URL are exclusive pairs; the URL form is fetched', async () => {
    const deny = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' }, { Effect: 'Deny', Action: 'Update:Modify', Principal: '*', Resource: 'LogicalResourceId/R' }] });
    const allow = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' }] });
    served.set('/deny.json', deny);
    const both = await sdkError(create('pol-both', { stackPolicyBody: deny, stackPolicyURL: `${filesUrl}/deny.json` }));
    expect(both.code).toBe('InvalidParameter');
    const id = await create('pol', { stackPolicyURL: `${filesUrl}/deny.json` });
    await until(id, 'CREATE_COMPLETE');
    expect((await sdk.getStackPolicy(new ros.GetStackPolicyRequest({ regionId: region, stackId: id }))).body!.stackPolicyBody).toEqual(JSON.parse(deny));
    const denied = await sdkError(sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), parameters: params({ Greeting: 'changed' }) })));
    expect(denied.code).toBe('StackPolicyValidationFailed');
    const pair = await sdkError(
      sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), parameters: params({ Greeting: 'changed' }), stackPolicyDuringUpdateBody: allow, stackPolicyDuringUpdateURL: `${filesUrl}/deny.json` })),
    );
    expect(pair.code).toBe('InvalidParameter');
    await sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), parameters: params({ Greeting: 'changed' }), stackPolicyDuringUpdateBody: allow }));
    await until(id, 'UPDATE_COMPLETE');
  });

  it('CancelUpdateStack Safe and Quick: the update stops and rolls back', async () => {
    for (const cancelType of ['Safe', 'Quick']) {
      const id = await create(`cancel-${cancelType}`);
      await until(id, 'CREATE_COMPLETE');
      await sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl({ action_wait_secs: { update: -1 } }), parameters: params({ Greeting: cancelType }) }));
      await until(id, 'UPDATE_IN_PROGRESS');
      await sdk.cancelUpdateStack(new ros.CancelUpdateStackRequest({ regionId: region, stackId: id, cancelType }));
      await until(id, 'ROLLBACK_COMPLETE');
      const again = await sdkError(sdk.cancelUpdateStack(new ros.CancelUpdateStackRequest({ regionId: region, stackId: id, cancelType })));
      expect(again.code).toBe('NotSupported');
    }
  });

  it('SetDeletionProtection blocks DeleteStack; DeleteStack with RetainAllResources and RamRoleName then removes the stack', async () => {
    const id = await create('prot');
    await until(id, 'CREATE_COMPLETE');
    await sdk.setDeletionProtection(new ros.SetDeletionProtectionRequest({ regionId: region, stackId: id, deletionProtection: 'Enabled' }));
    const refused = await sdkError(sdk.deleteStack(new ros.DeleteStackRequest({ regionId: region, stackId: id })));
    expect(refused.statusCode).toBe(400);
    await sdk.setDeletionProtection(new ros.SetDeletionProtectionRequest({ regionId: region, stackId: id, deletionProtection: 'Disabled' }));
    await sdk.deleteStack(new ros.DeleteStackRequest({ regionId: region, stackId: id, retainAllResources: true, ramRoleName: 'deleter' }));
    const detail = (await (await fetch(`${emu.url}/_emulator/stacks/${id}`)).json()) as { extra: Record<string, unknown> };
    expect(detail.extra.deleteRamRoleName).toBe('deleter');
    for (let i = 0; i < 600; i++) {
      const e = await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: id })).then(() => undefined, (x: { code: string }) => x);
      if (e) {
        expect(e.code).toBe('StackNotFound');
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('stack still visible after DeleteStack');
  });

  it('errors the SDK surfaces: StackNotFound (404), SignatureDoesNotMatch, Throttling.User', async () => {
    const nf = await sdkError(sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: '00000000-0000-4000-8000-000000000000' })));
    expect([nf.statusCode, nf.code]).toEqual([404, 'StackNotFound']);
    const sig = await sdkError(client('wrong-secret').listStacks(new ros.ListStacksRequest({ regionId: region })));
    expect(sig.code).toBe('SignatureDoesNotMatch');
    await fetch(`${emu.url}/_emulator/rate-limit`, { method: 'PUT', body: JSON.stringify({ services: { ros: { requestsPerSecond: 0.001, burst: 1 } } }) });
    try {
      await sdk.listStacks(new ros.ListStacksRequest({ regionId: region }));
      const t = await sdkError(sdk.listStacks(new ros.ListStacksRequest({ regionId: region })));
      expect(t.code).toBe('Throttling.User');
    } finally {
      await fetch(`${emu.url}/_emulator/rate-limit`, { method: 'PUT', body: 'null' });
    }
  });

  it('TemplateURL is fetched by the service; an unreachable URL is InvalidParameter', async () => {
    served.set('/tmpl.json', tmpl());
    const id = await create('url', { templateBody: undefined, templateURL: `${filesUrl}/tmpl.json` });
    await until(id, 'CREATE_COMPLETE');
    const missing = await sdkError(create('url-missing', { templateBody: undefined, templateURL: `${filesUrl}/nope.json` }));
    expect(missing.code).toBe('InvalidParameter');
    served.set('/big.json', `{"ROSTemplateFormatVersion":"2015-09-01","Description":"${'x'.repeat(600_000)}"}`);
    const big = await sdkError(create('url-big', { templateBody: undefined, templateURL: `${filesUrl}/big.json` }));
    expect(big.code).toBe('InvalidParameter');
  });

  it('ACS3: a request signed by the official signer with a repeated header in two cases and an empty query value verifies', async () => {
    const ros0 = new URL(emu.serviceEndpoints!.ros);
    const headers: Record<string, string> = {
      host: ros0.host,
      'x-acs-action': 'ListStacks',
      'x-acs-version': '2019-09-10',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': crypto.randomUUID(),
      'x-acs-content-sha256': OpenApiUtil.hash(Buffer.from(''), 'ACS3-HMAC-SHA256').toString('hex'),
      'X-Acs-Extra': 'b',
      'x-acs-extra': ' a ',
    };
    const query = { RegionId: region, StackName: '' };
    const auth = OpenApiUtil.getAuthorization({ pathname: '/', method: 'GET', query, headers } as never, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256']!, emu.credentials.ros.accessKeyId, emu.credentials.ros.secretAccessKey);
    const lines = [`GET /?RegionId=${region}&StackName= HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Authorization: ${auth}`, 'Connection: close', '', ''];
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(ros0.port), ros0.hostname, () => sock.end(lines.join('\r\n')));
      let data = '';
      sock.setEncoding('utf8').on('data', (c: string) => (data += c));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});

describe('ROS change sets with the official Node SDK (plan / approve, docs/plan-approve.md)', () => {
  async function changeSet(id: string): Promise<ros.GetChangeSetResponseBody> {
    for (let i = 0; i < 200; i++) {
      const cs = (await sdk.getChangeSet(new ros.GetChangeSetRequest({ regionId: region, changeSetId: id }))).body!;
      if (cs.status !== 'CREATE_IN_PROGRESS' && cs.status !== 'CREATE_PENDING') return cs;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`change set ${id} never left CREATE_IN_PROGRESS`);
  }
  const csParams = (p: Record<string, string>) => Object.entries(p).map(([parameterKey, parameterValue]) => new ros.CreateChangeSetRequestParameters({ parameterKey, parameterValue }));
  const resourceChanges = (cs: ros.GetChangeSetResponseBody) =>
    (cs.changes ?? []).map((c) => (c as { ResourceChange: { Action: string; LogicalResourceId: string; Replacement?: string } }).ResourceChange).map((r) => `${r.Action}:${r.LogicalResourceId}${r.Replacement ? `:${r.Replacement}` : ''}`).sort();

  it('CREATE: a REVIEW_IN_PROGRESS stack without resources, the plan lists every resource as Add, ExecuteChangeSet creates it', async () => {
    const r = await sdk.createChangeSet(
      new ros.CreateChangeSetRequest({ regionId: region, stackName: 'cs-create', changeSetName: 'first', changeSetType: 'CREATE', templateBody: tmpl({}, { S: { Type: 'ALIYUN::ROS::WaitConditionHandle' } }), tags: [new ros.CreateChangeSetRequestTags({ key: 'team', value: 'a' })] }),
    );
    const { changeSetId, stackId } = r.body!;
    expect(changeSetId).toBeTruthy();
    expect(await status(stackId!)).toBe('REVIEW_IN_PROGRESS');
    const stack = (await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: stackId! }))).body!;
    expect(stack.tags).toEqual([expect.objectContaining({ key: 'team', value: 'a' })]);
    const cs = await changeSet(changeSetId!);
    expect(cs).toMatchObject({ status: 'CREATE_COMPLETE', executionStatus: 'AVAILABLE', changeSetType: 'CREATE', stackId, stackName: 'cs-create', changeSetName: 'first' });
    expect(resourceChanges(cs)).toEqual(['Add:R', 'Add:S']);
    // A second CREATE for the same stack name: that stack exists now.
    const again = await sdkError(sdk.createChangeSet(new ros.CreateChangeSetRequest({ regionId: region, stackName: 'cs-create', changeSetName: 'again', changeSetType: 'CREATE', templateBody: tmpl() })));
    expect(again.code).toBe('StackExists');
    await sdk.executeChangeSet(new ros.ExecuteChangeSetRequest({ regionId: region, changeSetId: changeSetId! }));
    await until(stackId!, 'CREATE_COMPLETE');
    expect((await changeSet(changeSetId!)).executionStatus).toBe('EXECUTE_COMPLETE');
    const e = await sdkError(sdk.executeChangeSet(new ros.ExecuteChangeSetRequest({ regionId: region, changeSetId: changeSetId! })));
    expect(e.code).toBe('InvalidChangeSetStatus');
  });

  it('UPDATE: Modify with Replacement False / True, Add and Remove from the resource diff; execution applies exactly that', async () => {
    const id = await create('cs-update', { templateBody: tmpl({}, { Gone: { Type: 'ALIYUN::ROS::WaitConditionHandle' }, Swap: { Type: 'ALIYUN::ROS::WaitConditionHandle' } }) });
    await until(id, 'CREATE_COMPLETE');
    const next = tmpl({}, { Swap: { Type: 'ALIYUN::ROS::WaitCondition', Properties: { Handle: { Ref: 'R' } } }, New: { Type: 'ALIYUN::ROS::WaitConditionHandle' } });
    const r = await sdk.createChangeSet(new ros.CreateChangeSetRequest({ regionId: region, stackId: id, changeSetName: 'upd', changeSetType: 'UPDATE', templateBody: next, parameters: csParams({ Greeting: 'bye' }) }));
    const cs = await changeSet(r.body!.changeSetId!);
    expect(resourceChanges(cs)).toEqual(['Add:New', 'Modify:R:False', 'Modify:Swap:True', 'Remove:Gone']);
    expect(await status(id)).toBe('CREATE_COMPLETE'); // a plan changes nothing
    // UPDATE for a stack that does not exist, CREATE for one that does: refused.
    const missing = await sdkError(sdk.createChangeSet(new ros.CreateChangeSetRequest({ regionId: region, stackId: 'no-such', changeSetName: 'x', changeSetType: 'UPDATE', templateBody: next })));
    expect(missing.code).toBe('StackNotFound');
    await sdk.executeChangeSet(new ros.ExecuteChangeSetRequest({ regionId: region, changeSetId: r.body!.changeSetId!, clientToken: 'exec-upd-1' }));
    await until(id, 'UPDATE_COMPLETE');
    const out = (await sdk.getStack(new ros.GetStackRequest({ regionId: region, stackId: id }))).body!.outputs as Array<Record<string, unknown>>;
    expect(out.find((o) => o.OutputKey === 'Greeting')?.OutputValue).toBe('bye');
    const res = (await (await fetch(`${emu.url}/_emulator/stacks/${id}`)).json()) as { resources: Array<{ name: string; type: string }> };
    expect(res.resources.map((x) => `${x.name}:${x.type}`).sort()).toEqual(['New:ALIYUN::ROS::WaitConditionHandle', 'R:ALIYUN::ROS::WaitConditionHandle', 'Swap:ALIYUN::ROS::WaitCondition']);
  });

  it('a change set made before the stack changed is OBSOLETE and cannot be executed; DeleteChangeSet removes one, ListChangeSets lists by name', async () => {
    const id = await create('cs-stale');
    await until(id, 'CREATE_COMPLETE');
    const mk = async (name: string, greeting: string) =>
      (await sdk.createChangeSet(new ros.CreateChangeSetRequest({ regionId: region, stackId: id, changeSetName: name, changeSetType: 'UPDATE', templateBody: tmpl(), parameters: csParams({ Greeting: greeting }) }))).body!.changeSetId!;
    const a = await mk('a', 'one');
    const b = await mk('b', 'two');
    await changeSet(a);
    const listed = (await sdk.listChangeSets(new ros.ListChangeSetsRequest({ regionId: region, stackId: id, changeSetName: ['b'] }))).body!.changeSets!;
    expect(listed.map((c) => c.changeSetId)).toEqual([b]);
    await sdk.deleteChangeSet(new ros.DeleteChangeSetRequest({ regionId: region, changeSetId: b }));
    expect((await sdkError(sdk.getChangeSet(new ros.GetChangeSetRequest({ regionId: region, changeSetId: b })))).code).toBe('ChangeSetNotFound');
    await sdk.updateStack(new ros.UpdateStackRequest({ regionId: region, stackId: id, templateBody: tmpl(), parameters: params({ Greeting: 'direct' }) }));
    await until(id, 'UPDATE_COMPLETE');
    expect((await changeSet(a)).executionStatus).toBe('OBSOLETE');
    expect((await sdkError(sdk.executeChangeSet(new ros.ExecuteChangeSetRequest({ regionId: region, changeSetId: a })))).code).toBe('InvalidChangeSetStatus');
  });

  it('deleting a REVIEW_IN_PROGRESS stack deletes its change set (a rejected create is cleaned up)', async () => {
    const r = await sdk.createChangeSet(new ros.CreateChangeSetRequest({ regionId: region, stackName: 'cs-reject', changeSetName: 'c', changeSetType: 'CREATE', templateBody: tmpl() }));
    await changeSet(r.body!.changeSetId!);
    await sdk.deleteStack(new ros.DeleteStackRequest({ regionId: region, stackId: r.body!.stackId! }));
    for (let i = 0; i < 300 && (await sdk.listStacks(new ros.ListStacksRequest({ regionId: region, stackName: ['cs-reject'] }))).body!.stacks!.some((s) => s.status !== 'DELETE_COMPLETE'); i++) {
      await new Promise((res) => setTimeout(res, 20));
    }
    expect((await sdkError(sdk.getChangeSet(new ros.GetChangeSetRequest({ regionId: region, changeSetId: r.body!.changeSetId! })))).code).toBe('ChangeSetNotFound');
  });
});
