// OpenStack Heat conformance, driven by the official OpenStack CLI from Debian (python3-openstackclient
// + python3-heatclient, installed by test/env/clients/install-openstack-cli.sh), unchanged, against the
// emulator's Keystone and Heat on their own ports (the real root paths; the CLI finds Heat through the
// Keystone catalog). Observable results are the CLI's own output (JSON / value formats).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';

const run = promisify(execFile);
let emu: Emulator;
let dir: string;
let env: NodeJS.ProcessEnv;

const template = (updateWait: number): string => `heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: a}
resources:
  r:
    type: OS::Heat::TestResource
    properties: {value: {get_param: v}, action_wait_secs: {update: ${updateWait}}}
outputs:
  out: {value: {get_attr: [r, output]}}
`;

async function openstack(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('openstack', args, { env, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

async function stackStatus(name: string): Promise<string> {
  return (await openstack('stack', 'show', name, '-c', 'stack_status', '-f', 'value')).stdout.trim();
}

async function untilStatus(name: string, want: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 120; i++) {
    last = await stackStatus(name);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${name} never reached ${want} (last ${last})`);
}

beforeAll(async () => {
  await run('bash', [join(repoRoot, 'test/env/clients/install-openstack-cli.sh')], { timeout: 900_000 });
  emu = await startEmulator({ servicePorts: true, operationSpeed: 0.01, heatCancelInterruptsInFlight: true });
  dir = mkdtempSync(join(tmpdir(), 'openstack-cli-'));
  writeFileSync(join(dir, 'v1.yaml'), template(0));
  // The update's resource action never ends by itself (-1), so the cancel always finds it running however
  // slow the CLI is; heatCancelInterruptsInFlight (below) lets the rollback start without waiting for it
  // (real Heat waits for running actions: only the timing differs, not what the CLI shows).
  writeFileSync(join(dir, 'slow.yaml'), template(-1));
  const k = emu.credentials.keystone;
  // only this emulator's settings: no OS_* or clouds.yaml of the machine leaks into the test
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OS_')));
  env = {
    ...base,
    HOME: dir,
    OS_AUTH_URL: emu.serviceEndpoints!.keystone,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: k.username,
    OS_PASSWORD: k.password,
    OS_USER_DOMAIN_NAME: k.userDomainName,
    OS_PROJECT_ID: k.projectId,
    OS_REGION_NAME: k.region,
  };
});
afterAll(async () => {
  await emu?.close();
});

describe('OpenStack Heat with the official OpenStack CLI', () => {
  it('stack create --wait, output show, update, cancel (rolls back), delete --wait', { timeout: 300_000 }, async () => {
    const created = await openstack('stack', 'create', '-t', join(dir, 'v1.yaml'), '--parameter', 'v=one', '--wait', '-f', 'json', 'cli-a');
    expect(created.code, created.stderr).toBe(0);
    // --wait prints the stack's events first, then the JSON document
    expect(JSON.parse(created.stdout.slice(created.stdout.indexOf('\n{') + 1))).toMatchObject({ stack_name: 'cli-a', stack_status: 'CREATE_COMPLETE' });
    const out = await openstack('stack', 'output', 'show', 'cli-a', 'out', '-f', 'json');
    expect(JSON.parse(out.stdout)).toMatchObject({ output_key: 'out', output_value: 'one' });

    const upd = await openstack('stack', 'update', '-t', join(dir, 'slow.yaml'), '--parameter', 'v=two', '-f', 'json', 'cli-a');
    expect(upd.code, upd.stderr).toBe(0);
    expect(JSON.parse(upd.stdout)).toMatchObject({ stack_status: 'UPDATE_IN_PROGRESS' });
    const cancel = await openstack('stack', 'cancel', 'cli-a');
    expect(cancel.code, cancel.stderr).toBe(0);
    await untilStatus('cli-a', 'ROLLBACK_COMPLETE');
    expect((await openstack('stack', 'output', 'show', 'cli-a', 'out', '-c', 'output_value', '-f', 'value')).stdout.trim()).toBe('one');

    const del = await openstack('stack', 'delete', '--yes', '--wait', 'cli-a');
    expect(del.code, del.stderr).toBe(0);
    const gone = await openstack('stack', 'show', 'cli-a');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('Stack not found: cli-a');
  });

  it('a second stack create with the same name is refused by Heat (409) and reported by the CLI', async () => {
    expect((await openstack('stack', 'create', '-t', join(dir, 'v1.yaml'), '--wait', 'cli-b')).code).toBe(0);
    const again = await openstack('stack', 'create', '-t', join(dir, 'v1.yaml'), 'cli-b');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists');
    expect((await openstack('stack', 'delete', '--yes', '--wait', 'cli-b')).code).toBe(0);
  });
});
