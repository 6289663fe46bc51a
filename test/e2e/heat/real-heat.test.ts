// The shared Heat scenario suite against a real OpenStack Heat 19 + Keystone 22 (Debian
// bookworm packages), started by test/env/heat/launcher.ts. See docs/real-heat.md.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeat, type RealHeat } from '../../env/heat/launcher.ts';
import { defineHeatScenarios, type HeatTarget } from './scenarios.ts';

const installScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../env/heat/install.sh');

let heat: RealHeat | undefined;

beforeAll(async () => {
  const t0 = Date.now();
  const inst = spawnSync('bash', [installScript], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  if (inst.status !== 0) throw new Error(`${installScript} failed (${inst.signal ?? `exit ${inst.status}`})`);
  const installMs = Date.now() - t0;
  heat = await startHeat();
  console.log(`real heat: install check ${installMs} ms, start ${heat.timings.total} ms ${JSON.stringify(heat.timings)} (template ${heat.templateBuilt ? 'built' : 'cached'})`);
}, 900_000);

afterAll(async () => {
  await heat?.stop();
}, 60_000);

function target(): HeatTarget {
  if (!heat) throw new Error('real Heat did not start');
  return { keystoneUrl: heat.keystoneUrl, credentials: heat.demo, region: heat.region };
}

describe('real Heat environment', () => {
  it('lists OS::Heat::TestResource and OS::Heat::RandomString among the resource types', async () => {
    const t = target();
    const login = await fetch(`${t.keystoneUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: t.credentials.username, domain: { name: 'Default' }, password: t.credentials.password } } },
          scope: { project: { name: t.credentials.projectName, domain: { name: 'Default' } } },
        },
      }),
    });
    expect(login.status).toBe(201);
    const token = login.headers.get('x-subject-token')!;
    const base = heat!.heatUrl.replace('%(tenant_id)s', heat!.demo.projectId);
    const res = await fetch(`${base}/resource_types`, { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(200);
    const types = ((await res.json()) as { resource_types: string[] }).resource_types;
    expect(types).toEqual(expect.arrayContaining(['OS::Heat::TestResource', 'OS::Heat::RandomString', 'OS::Heat::None', 'OS::Heat::Value']));
  });

  it('accepts the demo application credential', async () => {
    const ac = heat!.demo.applicationCredential;
    const res = await fetch(`${heat!.keystoneUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: { project: { id: string }; catalog: { type: string }[] } };
    expect(body.token.project.id).toBe(heat!.demo.projectId);
    expect(body.token.catalog.some((s) => s.type === 'orchestration')).toBe(true);
  });
});

defineHeatScenarios(target, { prefix: 'real' });
