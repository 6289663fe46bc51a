// OpenStack Heat conformance, driven by the official OpenStack CLI from Debian (python3-openstackclient
// + python3-heatclient, installed by test/env/clients/install-openstack-cli.sh), unchanged, against the
// emulator's Keystone and Heat on their own ports (the real root paths; the CLI finds Heat through the
// Keystone catalog). The same scenarios run against real Heat in openstack-cli-real-heat.test.ts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { type Cli, cliFor, duplicateName, installCli, lifecycle } from './openstack-cli.ts';

let emu: Emulator;
let cli: Cli;

beforeAll(async () => {
  await installCli();
  // The update's resource action never ends by itself (-1), so the cancel always finds it running however
  // slow the CLI is; heatCancelInterruptsInFlight lets the rollback start without waiting for it (real
  // Heat waits for running actions: only the timing differs, not what the CLI shows).
  emu = await startEmulator({ servicePorts: true, operationSpeed: 0.01, heatCancelInterruptsInFlight: true });
  const k = emu.credentials.keystone;
  cli = cliFor({
    updateWaitSecs: -1,
    os: {
      OS_AUTH_URL: emu.serviceEndpoints!.keystone,
      OS_USERNAME: k.username,
      OS_PASSWORD: k.password,
      OS_USER_DOMAIN_NAME: k.userDomainName,
      OS_PROJECT_ID: k.projectId,
      OS_REGION_NAME: k.region,
    },
  });
});
afterAll(async () => {
  await emu?.close();
});

describe('OpenStack Heat with the official OpenStack CLI (emulator)', () => {
  it('stack create --wait, output show, update, cancel (rolls back), delete --wait', { timeout: 300_000 }, async () => {
    await lifecycle(cli, 'cli-a');
  });

  it('a second stack create with the same name is refused by Heat (409) and reported by the CLI', async () => {
    await duplicateName(cli, 'cli-b');
  });
});
