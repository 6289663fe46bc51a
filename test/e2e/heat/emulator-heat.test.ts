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
  knownDifferences: {
    create: 'real Heat shows timeout_mins null (emulator 60), tags [] (emulator null), boolean parameters as "False" (emulator "false")',
    'cancel-rollback':
      'real Heat answers the cancel with a JSON null body and stays ROLLBACK_IN_PROGRESS until the in-flight resource wait ends; the emulator answers an empty body and is ROLLBACK_COMPLETE at once',
    'cancel-no-rollback-update': 'real Heat answers the cancel with a JSON null body (emulator: empty)',
    'cancel-no-rollback-create': 'real Heat answers the cancel with a JSON null body (emulator: empty)',
    delete: 'real Heat answers 404 for GET .../outputs of a deleted stack (emulator: 200)',
  },
});
