import { defineConfig } from 'vitest/config';
import PrebuildLastSequencer from './test/env/sequencer.ts';
import { onUnhandledError } from './test/env/unhandled-errors.ts';

// Three projects: unit (pure logic, no I/O), integration (real kube-apiserver + etcd started once by
// the global setup), e2e (kubectl, helm, real Heat). `npm test` runs all of them.
export default defineConfig({
  test: {
    reporters: ['default', './test/reporters/summary.ts'],
    // Files that need the background prebuild run last (test/env/sequencer.ts).
    sequence: { sequencer: PrebuildLastSequencer },
    // One upstream HTTP/2 teardown error is reported, not failed on; every other one fails the run.
    onUnhandledError,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
