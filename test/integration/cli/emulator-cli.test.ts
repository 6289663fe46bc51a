// `stack-operator emulator` from the CLI: it prints endpoints and credentials, and a plain HTTP client
// (with the providers' own signing, from the emulator tests' helpers) creates and cancels a stack on
// each provider type with them. RFS has no cancel API: there the stack is created, deployed and deleted.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../src/emulator/index.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { call, keystoneToken, rfsCall, rosRpc, uaaToken, waitFor } from '../emulator/helpers.ts';

let child: ChildProcess;
let emu: Emulator;

beforeAll(async () => {
  const config = join(tmpdir(), `emulator-config-${process.pid}.yaml`);
  writeFileSync(config, 'operationSpeed: 0.01\nlatencyMs: 1\n');
  child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', 'emulator', '--port', '0', '--config', config], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  const printed = await waitFor(async () => {
    try {
      return JSON.parse(out) as Emulator;
    } catch {
      return undefined;
    }
  }, 'emulator CLI output', 30_000);
  emu = printed;
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

const hot = (wait: number) => ({
  heat_template_version: '2018-08-31',
  parameters: { v: { type: 'string', default: 'a' } },
  resources: { r: { type: 'OS::Heat::TestResource', properties: { value: { get_param: 'v' }, action_wait_secs: { create: 1, update: wait } } } },
});

describe('stack-operator emulator (CLI)', () => {
  it('prints every endpoint and the credentials it accepts', () => {
    expect(Object.keys(emu.endpoints).sort()).toEqual(['cloudFoundry', 'heat', 'keystone', 'rfs', 'ros', 'rosLegacy', 'uaa']);
    expect(emu.credentials.keystone.password).toBeTruthy();
    expect(emu.credentials.ros.accessKeyId).toBeTruthy();
  });

  it('heat: create, update, cancel_update → ROLLBACK_COMPLETE', async () => {
    const { token } = await keystoneToken(emu);
    const h = { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' };
    const c = await call(`${emu.endpoints.heat}/stacks`, { method: 'POST', headers: h, body: JSON.stringify({ stack_name: 'cli', template: hot(1) }) });
    expect(c.status).toBe(201);
    const url = `${emu.endpoints.heat}/stacks/cli/${c.body.stack.id}`;
    const status = async () => (await call(url, { headers: h })).body.stack.stack_status as string;
    await waitFor(async () => ((await status()) === 'CREATE_COMPLETE' ? true : undefined), 'CREATE_COMPLETE');
    const u = await call(url, { method: 'PUT', headers: h, body: JSON.stringify({ template: hot(300), parameters: { v: 'b' } }) });
    expect(u.status).toBe(202);
    await waitFor(async () => ((await status()) === 'UPDATE_IN_PROGRESS' ? true : undefined), 'UPDATE_IN_PROGRESS');
    const x = await call(`${url}/actions`, { method: 'POST', headers: h, body: JSON.stringify({ cancel_update: null }) });
    expect(x.status).toBe(200);
    await waitFor(async () => ((await status()) === 'ROLLBACK_COMPLETE' ? true : undefined), 'ROLLBACK_COMPLETE', 20_000);
  });

  it('ros: CreateStack, UpdateStack, CancelUpdateStack → UPDATE_FAILED (cancelled), then ROLLBACK_COMPLETE', async () => {
    const tmpl = (wait: number) =>
      JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: `w${wait}`, wait_secs: wait } } } });
    const c = await rosRpc(emu, 'CreateStack', { StackName: 'cli', TemplateBody: tmpl(1) });
    expect(c.status).toBe(200);
    const id = c.body.StackId as string;
    const get = async () => (await rosRpc(emu, 'GetStack', { StackId: id })).body.Status as string;
    await waitFor(async () => ((await get()) === 'CREATE_COMPLETE' ? true : undefined), 'CREATE_COMPLETE');
    expect((await rosRpc(emu, 'UpdateStack', { StackId: id, TemplateBody: tmpl(300) })).status).toBe(200);
    await waitFor(async () => ((await get()) === 'UPDATE_IN_PROGRESS' ? true : undefined), 'UPDATE_IN_PROGRESS');
    expect((await rosRpc(emu, 'CancelUpdateStack', { StackId: id, CancelType: 'Quick' })).status).toBe(200);
    // ROS: the cancel fails the update ("Stack UPDATE cancelled"), then rolls back.
    await waitFor(async () => ((await get()) === 'ROLLBACK_COMPLETE' ? true : undefined), 'ROLLBACK_COMPLETE', 20_000);
  });

  it('rfs (no cancel API): create, deploy, delete with the stack_id guard', async () => {
    const tf = JSON.stringify({ resource: { test_resource: { a: { value: 'x', wait_secs: 1 } } } });
    const c = await rfsCall(emu, 'POST', '/stacks', { stack_name: 'cli', template_body: tf });
    expect(c.status).toBe(201);
    const id = c.body.stack_id as string;
    await waitFor(async () => ((await rfsCall(emu, 'GET', '/stacks/cli/metadata')).body.status === 'DEPLOYMENT_COMPLETE' ? true : undefined), 'DEPLOYMENT_COMPLETE');
    const d = await rfsCall(emu, 'DELETE', `/stacks/cli?stack_id=${id}`);
    expect(d.status).toBe(202);
  });

  it('cloudfoundry: app, droplet, deployment, cancel', async () => {
    const { access_token } = await uaaToken(emu);
    const cf = (method: string, path: string, body?: unknown) =>
      call(`${emu.endpoints.cloudFoundry}${path}`, {
        method,
        headers: { authorization: `bearer ${access_token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const app = await cf('POST', '/v3/apps', { name: 'cli', relationships: { space: { data: { guid: emu.credentials.cloudFoundry.spaceGuid } } } });
    expect(app.status).toBe(201);
    const slow = JSON.stringify({ resources: { web: { type: 'cf_process', properties: { value: 'v', wait_secs: 300 } } } });
    const drop = await cf('POST', '/v3/droplets', {
      relationships: { app: { data: { guid: app.body.guid } } },
      metadata: { annotations: { 'emulator.stackoperator.dev/template': slow } },
    });
    expect(drop.status).toBe(201);
    const dep = await cf('POST', '/v3/deployments', { relationships: { app: { data: { guid: app.body.guid } } }, droplet: { guid: drop.body.guid } });
    expect(dep.status).toBe(201);
    const x = await cf('POST', `/v3/deployments/${dep.body.guid}/actions/cancel`);
    expect(x.status).toBe(200);
    const end = await waitFor(async () => {
      const d = (await cf('GET', `/v3/deployments/${dep.body.guid}`)).body;
      return d.status.value === 'FINALIZED' ? d : undefined;
    }, 'deployment finalized', 20_000);
    expect(end.status.reason).toBe('CANCELED');
  });
});

describe('stack-operator emulator --service-ports (CLI)', () => {
  it('prints serviceEndpoints: every service on its own port at the real root paths', async () => {
    const ported = spawn(join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', 'emulator', '--port', '0', '--service-ports'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      ported.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
      const printed = await waitFor(async () => {
        try {
          return JSON.parse(out) as Emulator;
        } catch {
          return undefined;
        }
      }, 'emulator CLI output', 30_000);
      const se = printed.serviceEndpoints!;
      expect(Object.keys(se).sort()).toEqual(['cloudFoundry', 'heat', 'keystone', 'rfs', 'ros', 'rosLegacy', 'uaa']);
      expect(new Set(Object.values(se).map((u: string) => new URL(u).port)).size).toBe(7);
      const root = await call(`${se.cloudFoundry}/v3`);
      expect(root.status).not.toBe(404);
      expect((await call(`${se.keystone}`)).body.version.links[0].href).toBe(`${se.keystone}/`);
    } finally {
      const exited = new Promise((r) => ported.once('exit', r));
      ported.kill('SIGTERM');
      await exited;
    }
  });
});
