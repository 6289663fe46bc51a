// Cloud Foundry v3: no official client can be had here (the cf CLI is not in Debian or npm), so the
// emulator's request and response shapes are checked against the examples of the published CF v3 API
// reference, kept as a shape fixture naming its source (fixtures/cf-v3-deployments.shape.json).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- tests read untyped JSON bodies */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { call, uaaToken, type Reply } from '../../integration/emulator/helpers.ts';

type Shape = string | { [k: string]: Shape };
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/cf-v3-deployments.shape.json'), 'utf8')) as {
  createRequest: Record<string, unknown>;
  createStatus: number;
  deployment: Shape;
  statusValues: { value: string[]; reason: string[] };
  list: Shape;
};

/** Paths where `value` does not have the shape's type ("string", "object|null", nested objects...). */
function mismatches(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape !== 'string') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not an object`];
    return Object.entries(shape).flatMap(([k, s]) => mismatches((value as Record<string, unknown>)[k], s, `${path}.${k}`));
  }
  const ok = shape.split('|').some((t) => {
    if (t === 'null') return value === null;
    if (t === 'array') return Array.isArray(value);
    if (t === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    if (t === 'timestamp') return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(value);
    return typeof value === t;
  });
  return ok ? [] : [`${path}: expected ${shape}, got ${JSON.stringify(value)}`];
}

let emu: Emulator;
let token: string;
const cf = (method: string, path: string, body?: unknown): Promise<Reply> =>
  call(`${emu.endpoints.cloudFoundry}${path}`, { method, headers: { authorization: `bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

beforeAll(async () => {
  emu = await startEmulator({ operationSpeed: 0.01 });
  token = (await uaaToken(emu)).access_token as string;
});
afterAll(async () => {
  await emu?.close();
});

describe('Cloud Foundry v3 shapes against the published API reference examples', () => {
  it('POST /v3/deployments with the documented droplet request answers the documented deployment object; the list is paginated as documented', async () => {
    const app = await cf('POST', '/v3/apps', { name: 'shape', relationships: { space: { data: { guid: emu.credentials.cloudFoundry.spaceGuid } } } });
    const droplet = await cf('POST', '/v3/droplets', { relationships: { app: { data: { guid: app.body.guid } } } });
    const req = structuredClone(fixture.createRequest) as { droplet: { guid: string }; relationships: { app: { data: { guid: string } } } };
    req.droplet.guid = droplet.body.guid;
    req.relationships.app.data.guid = app.body.guid;
    const d = await cf('POST', '/v3/deployments', req);
    expect(d.status).toBe(fixture.createStatus);
    expect(mismatches(d.body, fixture.deployment)).toEqual([]);
    expect(fixture.statusValues.value).toContain(d.body.status.value);
    expect(fixture.statusValues.reason).toContain(d.body.status.reason);
    const list = await cf('GET', `/v3/deployments?app_guids=${app.body.guid}`);
    expect(mismatches(list.body, fixture.list)).toEqual([]);
    expect(mismatches(list.body.resources[0], fixture.deployment)).toEqual([]);
  });
});
