// spec.template.url end to end (correctness issue, item 1): the operator sends the URL and the
// service fetches it (the emulator fetches like Heat does, from a loopback server here); a provider
// without template URLs (Cloud Foundry) is Stalled/InvalidSpec saying so, and nothing is sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutations } from '../tenancy/util.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from './harness.ts';

let env: OperatorEnv;
let server: Server;
let url: string;
let fetches = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hot('from-url')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/web.json`;
  env = await startOperatorEnv({ providers: ['heat', 'cloudfoundry'] });
});
afterAll(async () => {
  await env?.stop();
  await new Promise((r) => server.close(r));
});

describe('spec.template.url', () => {
  it('heat: the service fetches the template from the URL; the Stack becomes Ready with its outputs', async () => {
    await env.apply(stackManifest('by-url', 'heat', { template: { url } }));
    const s = await env.waitStack('by-url', isReady, 'Ready');
    expect(s.status?.outputs?.message).toBe('from-url');
    expect(fetches).toBeGreaterThan(0);
    expect(mutations(env, 'heat', 'by-url').create).toBe(1);
  });

  it('cloudfoundry: Stalled InvalidSpec, saying Cloud Foundry has no template URL; nothing sent', async () => {
    await env.apply(stackManifest('cf-url', 'cloudfoundry', { template: { url } }));
    const s = await env.waitStack('cf-url', (x) => cond(x, 'Stalled')?.reason === 'InvalidSpec', 'InvalidSpec');
    expect(cond(s, 'Stalled')?.message).toContain('no template URL');
    expect(mutations(env, 'cloudfoundry', 'cf-url').create).toBe(0);
  });
});
