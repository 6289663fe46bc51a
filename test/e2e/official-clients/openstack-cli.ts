// The OpenStack CLI scenarios, run unchanged against a target (the emulator's Keystone + Heat, or a
// real Heat + Keystone): the same commands and the same observable results, so real Heat is the oracle
// for the emulator (openstack-cli.test.ts, openstack-cli-real-heat.test.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { repoRoot } from '../../../src/devenv/paths.ts';

const run = promisify(execFile);

export interface CliTarget {
  /** OS_* settings of the target: auth URL, user, project, region. */
  os: Record<string, string>;
  /** Seconds the update's resource action runs (-1: until cancelled; only the emulator allows it). */
  updateWaitSecs: number;
}

export interface Cli {
  openstack(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  file(name: string): string;
}

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

export async function installCli(): Promise<void> {
  await run('bash', [join(repoRoot, 'test/env/clients/install-openstack-cli.sh')], { timeout: 900_000 });
}

export function cliFor(target: CliTarget): Cli {
  const dir = mkdtempSync(join(tmpdir(), 'openstack-cli-'));
  writeFileSync(join(dir, 'v1.yaml'), template(0));
  writeFileSync(join(dir, 'slow.yaml'), template(target.updateWaitSecs));
  // Only the target's settings: no OS_* or clouds.yaml of the machine leaks into the test.
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OS_')));
  const env = { ...base, HOME: dir, OS_IDENTITY_API_VERSION: '3', ...target.os };
  return {
    file: (name) => join(dir, name),
    async openstack(...args) {
      try {
        const r = await run('openstack', args, { env, timeout: 120_000 });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const x = e as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
      }
    },
  };
}

async function untilStatus(cli: Cli, name: string, want: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 180; i++) {
    last = (await cli.openstack('stack', 'show', name, '-c', 'stack_status', '-f', 'value')).stdout.trim();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${name} never reached ${want} (last ${last})`);
}

/** create --wait, output show, update, cancel (rolls back), delete --wait. */
export async function lifecycle(cli: Cli, name: string): Promise<void> {
  const created = await cli.openstack('stack', 'create', '-t', cli.file('v1.yaml'), '--parameter', 'v=one', '--wait', '-f', 'json', name);
  expect(created.code, created.stderr).toBe(0);
  // --wait prints the stack's events first, then the JSON document
  expect(JSON.parse(created.stdout.slice(created.stdout.indexOf('\n{') + 1))).toMatchObject({ stack_name: name, stack_status: 'CREATE_COMPLETE' });
  const out = await cli.openstack('stack', 'output', 'show', name, 'out', '-f', 'json');
  expect(JSON.parse(out.stdout)).toMatchObject({ output_key: 'out', output_value: 'one' });

  const upd = await cli.openstack('stack', 'update', '-t', cli.file('slow.yaml'), '--parameter', 'v=two', '-f', 'json', name);
  expect(upd.code, upd.stderr).toBe(0);
  expect(JSON.parse(upd.stdout)).toMatchObject({ stack_status: 'UPDATE_IN_PROGRESS' });
  const cancel = await cli.openstack('stack', 'cancel', name);
  expect(cancel.code, cancel.stderr).toBe(0);
  await untilStatus(cli, name, 'ROLLBACK_COMPLETE');
  expect((await cli.openstack('stack', 'output', 'show', name, 'out', '-c', 'output_value', '-f', 'value')).stdout.trim()).toBe('one');

  const del = await cli.openstack('stack', 'delete', '--yes', '--wait', name);
  expect(del.code, del.stderr).toBe(0);
  const gone = await cli.openstack('stack', 'show', name);
  expect(gone.code).not.toBe(0);
  expect(gone.stderr).toContain(`Stack not found: ${name}`);
}

/** A second create with the same name is refused (409) and reported by the CLI. */
export async function duplicateName(cli: Cli, name: string): Promise<void> {
  expect((await cli.openstack('stack', 'create', '-t', cli.file('v1.yaml'), '--wait', name)).code).toBe(0);
  const again = await cli.openstack('stack', 'create', '-t', cli.file('v1.yaml'), name);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('already exists');
  expect((await cli.openstack('stack', 'delete', '--yes', '--wait', name)).code).toBe(0);
}
