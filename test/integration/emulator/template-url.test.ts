// Template URLs are fetched by the emulated services like the real ones do (issue 13 item 1): Heat
// template_url, RFS template_uri (ROS TemplateURL: test/e2e/official-clients/ros-sdk.test.ts). The
// templates are served by a loopback HTTP server of the test; failures answer in each service's format.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, keystoneToken, rfsCall, waitFor } from './helpers.ts';

let emu: Emulator;
let files: Server;
let base: string;
const served = new Map<string, string>();

beforeAll(async () => {
  emu = await startEmulator({ operationSpeed: 0.01 });
  files = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (req.url === '/hang') return; // never answers: the fetch must time out, not hang the emulator
    if (body === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  served.set('/big', `heat_template_version: 2018-08-31\ndescription: ${'x'.repeat(600_000)}\n`);
});
afterAll(async () => {
  await emu?.close();
  if (files) {
    files.closeAllConnections();
    await new Promise((r) => files.close(r));
  }
});

describe('template URLs', () => {
  it('heat: template_url is fetched on create and update; a 404 or an oversized template is Heat’s 400', async () => {
    served.set('/v1.yaml', 'heat_template_version: 2018-08-31\nresources:\n  r:\n    type: OS::Heat::Value\n    properties: {value: one}\noutputs:\n  o: {value: {get_attr: [r, value]}}\n');
    served.set('/v2.yaml', 'heat_template_version: 2018-08-31\nresources:\n  r:\n    type: OS::Heat::Value\n    properties: {value: two}\noutputs:\n  o: {value: {get_attr: [r, value]}}\n');
    const { token } = await keystoneToken(emu);
    const h = { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' };
    const c = await call(`${emu.endpoints.heat}/stacks`, { method: 'POST', headers: h, body: JSON.stringify({ stack_name: 'byurl', template_url: `${base}/v1.yaml` }) });
    expect(c.status).toBe(201);
    const url = `${emu.endpoints.heat}/stacks/byurl/${c.body.stack.id}`;
    const output = async (): Promise<unknown> => {
      const s = (await call(url, { headers: h })).body.stack;
      return s.stack_status.endsWith('_COMPLETE') ? s.outputs?.[0]?.output_value : undefined;
    };
    expect(await waitFor(output, 'v1 output')).toBe('one');
    expect((await call(url, { method: 'PUT', headers: h, body: JSON.stringify({ template_url: `${base}/v2.yaml` }) })).status).toBe(202);
    expect(await waitFor(async () => ((await output()) === 'two' ? 'two' : undefined), 'v2 output')).toBe('two');
    for (const bad of ['/missing.yaml', '/big']) {
      const r = await call(`${emu.endpoints.heat}/stacks`, { method: 'POST', headers: h, body: JSON.stringify({ stack_name: 'badurl', template_url: `${base}${bad}` }) });
      expect(r.status).toBe(400);
      expect(r.body.error.type).toBe('HTTPBadRequest');
      expect(r.body.error.message).toContain('Could not retrieve template');
    }
  });

  it('rfs: template_uri is fetched on deploy; a failure is 400 RF.10011074', async () => {
    served.set('/main.tf.json', JSON.stringify({ resource: { test_resource: { a: { value: 'from-uri' } } }, output: { o: { value: '${test_resource.a.output}' } } }));
    expect((await rfsCall(emu, 'POST', '/stacks', { stack_name: 'uri' })).status).toBe(201);
    const d = await rfsCall(emu, 'POST', '/stacks/uri/deployments', { template_uri: `${base}/main.tf.json` });
    expect(d.status).toBe(202);
    const out = await waitFor(async () => {
      const r = await rfsCall(emu, 'GET', '/stacks/uri/outputs');
      return r.body.outputs?.length ? r.body.outputs[0].value : undefined;
    }, 'rfs outputs');
    expect(out).toBe('"from-uri"');
    const bad = await rfsCall(emu, 'POST', '/stacks/uri/deployments', { template_uri: `${base}/missing.tf.json` });
    expect([bad.status, bad.body.error_code]).toEqual([400, 'RF.10011074']);
  });
});
