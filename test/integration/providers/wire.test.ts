// What the adapters put on the wire, recorded by a loopback server that answers like the service
// (bodies from the API references in docs/providers.md): template URLs, no placeholder template,
// ROS update / delete / policy parameters, RFS mutations not re-sent, CF cancel of a finished
// deployment, ROS legacy 404 NotSupported.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { createProviderClient } from '../../../src/providers/index.ts';
import type { ResolvedProviderConfig } from '../../../src/providers/config.ts';
import { ProviderError, type StackInput, type StackProviderClient } from '../../../src/providers/types.ts';
import { json, startHttp, type Handler, type Loopback, type Recorded } from './loopback.ts';

const logger = pino({ level: 'silent' });
const http = { maxAttempts: 2, maxRetryWaitMs: 2000 };
const common = { rateLimit: { qps: 1000, burst: 1000 }, allowPlainHTTP: true };
const creds = { accessKeyId: 'AKIDwire0000000000001', secret: 'wire-secret-value-0001' };
const ROS_TEMPLATE = { ROSTemplateFormatVersion: '2015-09-01', Resources: {} };

function input(over: Partial<StackInput> = {}): StackInput {
  return {
    name: 'wire',
    template: undefined,
    parameters: {},
    usePreviousParameters: false,
    disableRollback: true,
    timeoutMinutes: 30,
    tags: {},
    ownerUid: '0e9b1f5c-1111-4222-8333-444455556666',
    deletionProtection: false,
    options: {},
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

let srv: Loopback | undefined;
let client: StackProviderClient | undefined;
afterEach(async () => {
  await client?.close();
  await srv?.close();
  client = undefined;
  srv = undefined;
});

async function serve(handler: Handler): Promise<Loopback> {
  srv = await startHttp(handler);
  return srv;
}

function rosAction(r: Recorded): string {
  return String(r.headers['x-acs-action'] ?? '');
}
/** Every RPC parameter: query string plus the form body (TemplateBody and policies go there). */
function rosParams(r: Recorded): URLSearchParams {
  const all = new URLSearchParams(r.url.search);
  for (const [k, v] of new URLSearchParams(r.body)) all.set(k, v);
  return all;
}

describe('ROS (RPC 2019-09-10) on the wire', () => {
  let sameOnUpdate = false;
  const handler: Handler = (r, res) => {
    const action = rosAction(r);
    if (action === 'UpdateStack' && sameOnUpdate) {
      json(res, 400, { RequestId: 'r', Code: 'NotSupported', Message: 'Update the completely same stack (wire) is not supported.' });
      return;
    }
    json(res, 200, { RequestId: 'r', StackId: 'ros-stack-1' });
  };
  const config = (url: string): ResolvedProviderConfig => ({ ...common, key: 'StackProvider/ns/ros-wire@1', type: 'ros', ros: { endpoint: url, regionId: 'cn-wire' }, credentials: creds });

  it('create and update send TemplateURL (and no TemplateBody) for spec.template.url', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    await client.create(input({ templateUrl: 'oss://bucket/template.json' }), { token: 'tok-create' });
    await client.update({ name: 'wire', id: 'ros-stack-1' }, input({ templateUrl: 'https://templates.example/t.json' }), { token: 'tok-update' });
    const [create, update] = s.requests.map(rosParams);
    expect(create?.get('TemplateURL')).toBe('oss://bucket/template.json');
    expect(create?.has('TemplateBody')).toBe(false);
    expect(update?.get('TemplateURL')).toBe('https://templates.example/t.json');
    expect(update?.has('TemplateBody')).toBe(false);
  });

  it('neither a body nor a URL: Invalid, and nothing is sent (no "{}" placeholder)', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    expect((await rejection(client.create(input(), { token: 't1' }))).kind).toBe('Invalid');
    expect((await rejection(client.update({ name: 'wire', id: 'x' }, input(), { token: 't2' }))).kind).toBe('Invalid');
    expect(s.requests).toHaveLength(0);
  });

  it('UpdateStack never sends DisableRollback; policies go as one of each Body / URL pair', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    const options = { stackPolicyURL: 'oss://bucket/policy.json', stackPolicyDuringUpdateBody: { Statement: [] } };
    await client.update({ name: 'wire', id: 'ros-stack-1' }, input({ template: ROS_TEMPLATE, disableRollback: true, options }), { token: 'tok-u' });
    const p = rosParams(s.requests[0]!);
    expect(p.has('DisableRollback')).toBe(false);
    expect(p.get('StackPolicyURL')).toBe('oss://bucket/policy.json');
    expect(p.has('StackPolicyBody')).toBe(false);
    expect(p.get('StackPolicyDuringUpdateBody')).toBe('{"Statement":[]}');
    const both = { stackPolicyBody: { Statement: [] }, stackPolicyURL: 'oss://b/p' };
    expect((await rejection(client.update({ name: 'wire', id: 'ros-stack-1' }, input({ template: ROS_TEMPLATE, options: both }), { token: 'tok-v' }))).kind).toBe('Invalid');
  });

  it('an unchanged update (400 NotSupported "Update the completely same stack") is success', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    sameOnUpdate = true;
    try {
      await client.update({ name: 'wire', id: 'ros-stack-1' }, input({ template: ROS_TEMPLATE, tags: { team: 'a' } }), { token: 'tok-same' });
    } finally {
      sameOnUpdate = false;
    }
    expect(s.requests.map(rosAction)).toEqual(['UpdateStack']);
  });

  it('DeleteStack sends the stack\'s RamRoleName', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    await client.delete({ name: 'wire', id: 'ros-stack-1' }, { retainResources: false }, { token: 'd', options: { ramRoleName: 'stack-role' } });
    const p = rosParams(s.requests[0]!);
    expect(rosAction(s.requests[0]!)).toBe('DeleteStack');
    expect(p.get('RamRoleName')).toBe('stack-role');
  });

  it('cancel NoRollback is refused with a clear message; Rollback sends CancelType', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    const e = await rejection(client.cancelUpdate({ name: 'wire', id: 'ros-stack-1' }, 'NoRollback', { token: 'c' }));
    expect(e.kind).toBe('Invalid');
    expect(e.message).toMatch(/no cancel without rollback/);
    await client.cancelUpdate({ name: 'wire', id: 'ros-stack-1' }, 'Rollback', { token: 'c2', options: { cancelType: 'Quick' } });
    expect(rosParams(s.requests[0]!).get('CancelType')).toBe('Quick');
  });
});

describe('ROS legacy REST (2015-09-01) on the wire', () => {
  const config = (url: string): ResolvedProviderConfig => ({
    ...common,
    key: 'StackProvider/ns/ros-legacy-wire@1',
    type: 'ros',
    ros: { endpoint: url, regionId: 'cn-wire', apiVersion: '2015-09-01' },
    credentials: creds,
  });

  it('404 NotSupported is Invalid (terminal), not "stack gone"', async () => {
    const s = await serve((_r, res) => json(res, 404, { RequestId: 'r', HostId: 'ros.aliyuncs.com', Code: 'NotSupported', Message: 'The specified action is not supported.' }));
    client = createProviderClient(config(s.url), { logger, http });
    const e = await rejection(client.get({ name: 'wire', id: 'legacy-1' }));
    expect(e).toMatchObject({ kind: 'Invalid', code: 'NotSupported' });
  });

  it('"use previous parameters" does not re-send a masked NoEcho value', async () => {
    const s = await serve((r, res) => {
      if (r.method === 'GET') {
        json(res, 200, { Id: 'legacy-1', Name: 'wire', Status: 'CREATE_COMPLETE', Parameters: { Password: '******', Size: '2' } });
      } else json(res, 200, { Id: 'legacy-1', Name: 'wire' });
    });
    client = createProviderClient(config(s.url), { logger, http });
    const template = { ROSTemplateFormatVersion: '2015-09-01', Parameters: { Password: { Type: 'String', NoEcho: true }, Size: { Type: 'Number' } } };
    await client.update({ name: 'wire', id: 'legacy-1' }, input({ template, usePreviousParameters: true, parameters: { Extra: 'x' } }), { token: 'u' });
    const put = s.requests.find((r) => r.method === 'PUT');
    expect((JSON.parse(put!.body) as { Parameters: Record<string, string> }).Parameters).toEqual({ Size: '2', Extra: 'x' });
  });

  it('a template URL is refused: this API takes the template body only', async () => {
    const s = await serve((_r, res) => json(res, 201, { Id: 'legacy-1', Name: 'wire' }));
    client = createProviderClient(config(s.url), { logger, http });
    expect((await rejection(client.create(input({ templateUrl: 'https://t.example/t.json' }), { token: 'c' }))).kind).toBe('Invalid');
    expect(s.requests).toHaveLength(0);
  });
});

describe('RFS on the wire', () => {
  const config = (url: string): ResolvedProviderConfig => ({
    ...common,
    key: 'StackProvider/ns/rfs-wire@1',
    type: 'rfs',
    rfs: { endpoint: url, region: 'wire-1', projectId: '0a1b2c3d4e5f4a5b8c9d0e1f2a3b4c5d' },
    credentials: creds,
  });
  const STACK_ID = '6ef1a7b3-1111-4222-8333-444455556666';
  const handler: Handler = (r, res) => {
    if (r.method === 'GET') json(res, 200, { stack_id: STACK_ID, stack_name: 'wire', status: 'DEPLOYMENT_COMPLETE', enable_auto_rollback: false });
    else if (r.url.pathname.endsWith('/deployments')) json(res, 202, { deployment_id: 'dep-1' });
    else json(res, 200, { stack_id: STACK_ID });
  };

  it('create and update send template_uri for spec.template.url, never an empty template', async () => {
    const s = await serve(handler);
    client = createProviderClient(config(s.url), { logger, http });
    await client.create(input({ templateUrl: 'https://obs.example/main.tf.json' }), { token: 'rfs-create-0000000000000000000000000000' });
    await client.update({ name: 'wire', id: STACK_ID }, input({ templateUrl: 'https://obs.example/main2.tf.json' }), { token: 'rfs-update-0000000000000000000000000000' });
    const posts = s.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(posts[0]).toMatchObject({ template_uri: 'https://obs.example/main.tf.json' });
    expect(posts[0]).not.toHaveProperty('template_body');
    expect(posts[1]).toMatchObject({ stack_id: STACK_ID, template_uri: 'https://obs.example/main2.tf.json' });
    expect(posts[1]).not.toHaveProperty('template_body');
    const before = s.requests.length;
    expect((await rejection(client.update({ name: 'wire', id: STACK_ID }, input(), { token: 'rfs-update-2-00000000000000000000000000' }))).kind).toBe('Invalid');
    expect(s.requests).toHaveLength(before);
  });

  it('a mutation answered 503 is not re-sent (Client-Request-Id is no idempotency key); a read is', async () => {
    const s = await serve((_r, res) => json(res, 503, { error_code: 'RF.10010001', error_msg: 'Internal server error.' }));
    client = createProviderClient(config(s.url), { logger, http: { maxAttempts: 3, maxRetryWaitMs: 2000 } });
    expect(client.capabilities.idempotencyTokens).toBe(false);
    expect((await rejection(client.create(input({ template: { resource: {} } }), { token: 'rfs-create-1-00000000000000000000000000' }))).kind).toBe('Transient');
    expect(s.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect((await rejection(client.delete({ name: 'wire', id: STACK_ID }, { retainResources: false }, { token: 'rfs-delete-1-00000000000000000000000000' }))).kind).toBe('Transient');
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    await rejection(client.get({ name: 'wire', id: STACK_ID }));
    expect(s.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
  });
});

describe('Cloud Foundry on the wire', () => {
  const config = (url: string): ResolvedProviderConfig => ({
    ...common,
    key: 'StackProvider/ns/cf-wire@1',
    type: 'cloudfoundry',
    cloudFoundry: { apiUrl: `${url}/cf`, uaaUrl: `${url}/uaa`, spaceGuid: 'space-1' },
    credentials: { clientId: 'wire-client', clientSecret: 'wire-client-secret' },
  });
  /** A CF whose latest deployment already finished; the cancel is refused with 422 in a given wording. */
  const cf = (detail: string, state: string): Handler => (r, res) => {
    const p = r.url.pathname;
    if (p === '/uaa/oauth/token') json(res, 200, { access_token: 'at', token_type: 'bearer', expires_in: 600 });
    else if (p === '/cf/v3/deployments') json(res, 200, { resources: [{ guid: 'dep-1', state, status: { value: 'FINALIZED', reason: 'DEPLOYED' } }] });
    else if (p === '/cf/v3/deployments/dep-1/actions/cancel') json(res, 422, { errors: [{ code: 10008, title: 'CF-UnprocessableEntity', detail }] });
    else if (p === '/cf/v3/deployments/dep-1') json(res, 200, { guid: 'dep-1', state, status: { value: 'FINALIZED', reason: 'DEPLOYED' } });
    else json(res, 404, { errors: [{ code: 10000, title: 'CF-NotFound', detail: 'Unknown request' }] });
  };

  it.each([
    ['older Cloud Controller wording', 'Cannot cancel a deployment with status: FINALIZED and reason: DEPLOYED', 'FINALIZED'],
    ['another wording, finished', 'Deployment must be in a cancelable state.', 'FINALIZED'],
    ['another wording, still running', 'Deployment must be in a cancelable state.', 'DEPLOYING'],
  ])('a 422 on cancel is a Conflict (requeue and read), never Invalid: %s', async (_name, detail, state) => {
    const s = await serve(cf(detail, state));
    client = createProviderClient(config(s.url), { logger, http });
    const e = await rejection(client.cancelUpdate({ name: 'app', id: 'app-1' }, 'Rollback', { token: 't' }));
    expect(e).toMatchObject({ kind: 'Conflict', code: 'CF-UnprocessableEntity', httpStatus: 422 });
    expect(e.message).toContain(`deployment dep-1 is ${state}`);
    expect(s.requests.filter((r) => r.url.pathname.endsWith('/actions/cancel'))).toHaveLength(1); // not re-sent
  });

  it('spec.template.url is refused: Cloud Foundry has no template URL', async () => {
    const s = await serve(cf('x', 'FINALIZED'));
    client = createProviderClient(config(s.url), { logger, http });
    const e = await rejection(client.create(input({ templateUrl: 'https://x.example/t' }), { token: 't' }));
    expect(e).toMatchObject({ kind: 'Invalid', field: 'spec.template.url' });
    expect(e.message).toBe('Cloud Foundry has no template URL; use inline or configMapRef');
    expect(s.requests).toHaveLength(0);
  });
});

describe('Heat on the wire (Keystone from the emulator, orchestration recorded)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ operationSpeed: 0.01 });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('create and update send template_url (no template) for spec.template.url', async () => {
    const s = await serve((r, res) => (r.method === 'POST' ? json(res, 201, { stack: { id: 'h-1', links: [] } }) : json(res, 202, {})));
    const k = emu.credentials.keystone;
    client = createProviderClient(
      {
        ...common,
        key: 'StackProvider/ns/heat-wire@1',
        type: 'heat',
        heat: { authUrl: emu.endpoints.keystone, projectName: k.projectName, region: k.region, endpoint: `${s.url}/v1/%(project_id)s` },
        credentials: { username: k.username, password: k.password },
      },
      { logger, http },
    );
    await client.create(input({ templateUrl: 'http://127.0.0.1:1/t.yaml' }), { token: 'c' });
    await client.update({ name: 'wire', id: 'h-1' }, input({ templateUrl: 'http://127.0.0.1:1/t2.yaml' }), { token: 'u' });
    const [create, update] = s.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(create).toMatchObject({ stack_name: 'wire', template_url: 'http://127.0.0.1:1/t.yaml' });
    expect(create).not.toHaveProperty('template');
    expect(update).toMatchObject({ template_url: 'http://127.0.0.1:1/t2.yaml' });
    expect(update).not.toHaveProperty('template');
    expect((await rejection(client.create(input(), { token: 'c2' }))).kind).toBe('Invalid');
    expect(s.requests).toHaveLength(2);
  });
});
