#!/usr/bin/env node
// stack-operator entry point: `run` (the operator), `emulator` (the provider emulator), `dev` (a local
// control plane + emulator + operator + samples). Argument parsing, wiring and shutdown only.
import { parseArgs } from 'node:util';
import { runEmulator } from './emulator.ts';
import { runOperator } from './run.ts';

const USAGE = `usage: stack-operator <command> [flags]

commands:
  run        run the operator against a cluster (in-cluster config or --kubeconfig)
  emulator   run the provider emulator (Heat/Keystone, RFS, ROS, Cloud Foundry/UAA)
  dev        start a local control plane, the emulator and the operator, and apply the samples

run 'stack-operator <command> --help' for its flags`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runOperator(rest);
    case 'emulator':
      return runEmulator(rest);
    case 'dev': {
      const { runDev } = await import('./dev.ts');
      return runDev(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

// Exported for the other entry files; parseArgs is re-exported so they share one style.
export { parseArgs };

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
