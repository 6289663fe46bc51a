#!/usr/bin/env node
// stack-operator entry point: `run` (the operator), `emulator` (the provider emulator), `dev` (a local
// control plane + emulator + operator + samples). Argument parsing, wiring and shutdown only.
import { parseArgs } from 'node:util';
import { isParseArgsError, packageVersion, UsageError } from './flags.ts';
import { runOperator } from './run.ts';

const USAGE = `usage: stack-operator <command> [flags]

commands:
  run        run the operator against a cluster (in-cluster config or --kubeconfig)
  emulator   run the provider emulator (Heat/Keystone, RFS, ROS, Cloud Foundry/UAA)
  dev        start a local control plane, the emulator and the operator, and apply the samples

run 'stack-operator <command> --help' for its flags; 'stack-operator --version' prints the version`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runOperator(rest);
    case 'emulator': {
      // Loaded on demand, like dev: the operator process need not hold the emulator's code.
      const { runEmulator } = await import('./emulator.ts');
      return runEmulator(rest);
    }
    case 'dev': {
      const { runDev } = await import('./dev.ts');
      return runDev(rest);
    }
    case '--version':
    case 'version':
      console.log(`stack-operator ${packageVersion()}`);
      return 0;
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

/**
 * Mistakes on the command line (ours, and node:util parseArgs' own from the other commands) are one
 * line on stderr and exit 2, with the usage for unknown flags; anything else is a crash (stack, exit 1).
 */
function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(`stack-operator: ${err.message}${err.usage ? `\n\n${err.usage}` : ''}`);
    return 2;
  }
  if (isParseArgsError(err)) {
    console.error(`stack-operator: ${err.message}\nrun 'stack-operator <command> --help' for the flags`);
    return 2;
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
}

// Exported for the other entry files; parseArgs is re-exported so they share one style.
export { parseArgs };

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportFailure(err);
  },
);
