// The shared Heat scenario suite against the project's emulator (src/emulator): the emulator's
// Heat + Keystone front-ends must behave like the real Heat recorded in docs/real-heat.md.
//
// knownDifferences lists the scenarios where the emulator still differs from the real Heat; they
// are skipped here (HEAT_SCENARIOS_STRICT=1 runs them). Remove an entry once the emulator matches.
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { defineHeatScenarios, type HeatTarget } from './scenarios.ts';

let emulator: Emulator | undefined;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator?.close();
});

function target(): HeatTarget {
  if (!emulator) throw new Error('emulator did not start');
  const k = emulator.credentials.keystone;
  return {
    keystoneUrl: emulator.endpoints.keystone,
    credentials: {
      username: k.username,
      password: k.password,
      projectName: k.projectName,
      userDomainName: k.userDomainName,
      projectDomainName: k.projectDomainName,
    },
    region: k.region,
  };
}

defineHeatScenarios(target, {
  prefix: 'emu',
  knownDifferences: {},
});
