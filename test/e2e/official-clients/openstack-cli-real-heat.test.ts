// The OpenStack CLI scenarios of openstack-cli.test.ts, unchanged, against a real OpenStack Heat +
// Keystone (Debian packages): the same commands give the same observable results as on the emulator.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { type RealHeat, startHeat } from '../../env/heat/launcher.ts';
import { type Cli, cliFor, duplicateName, installCli, lifecycle } from './openstack-cli.ts';

let heat: RealHeat;
let cli: Cli;

beforeAll(async () => {
  const script = join(repoRoot, 'test/env/heat/install.sh');
  const inst = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  if (inst.status !== 0) throw new Error(`${script} failed (${inst.signal ?? `exit ${inst.status}`})`);
  await installCli();
  heat = await startHeat();
  const d = heat.demo;
  cli = cliFor({
    // Real Heat lets a running resource action finish before the rollback: a short one.
    updateWaitSecs: 15,
    os: {
      OS_AUTH_URL: heat.keystoneUrl,
      OS_USERNAME: d.username,
      OS_PASSWORD: d.password,
      OS_USER_DOMAIN_NAME: d.userDomainName,
      OS_PROJECT_NAME: d.projectName,
      OS_PROJECT_DOMAIN_NAME: d.projectDomainName,
      OS_REGION_NAME: heat.region,
    },
  });
}, 900_000);
afterAll(async () => {
  await heat?.stop();
}, 60_000);

describe('OpenStack Heat with the official OpenStack CLI (real Heat)', () => {
  it('stack create --wait, output show, update, cancel (rolls back), delete --wait', { timeout: 300_000 }, async () => {
    await lifecycle(cli, 'cli-a');
  });

  it('a second stack create with the same name is refused by Heat (409) and reported by the CLI', async () => {
    await duplicateName(cli, 'cli-b');
  });
});
