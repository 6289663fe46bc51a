// `stack-operator emulator`: the provider emulator as a standalone server.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type EmulatorOptions, startEmulator } from '../emulator/index.ts';
import { createLogger } from '../runtime/logging.ts';

const HELP = `usage: stack-operator emulator [flags]

  --host HOST             listen address (default 127.0.0.1)
  --port PORT             listen port (default 18080; 0 picks a free one)
  --latency-ms N          added to every request (default 0)
  --operation-speed X     multiplier of every operation's duration (default 1; 0.1 = ten times faster)
  --service-ports         also serve each service alone on its own free loopback port at the real
                          service's root paths (for official clients, which sign or build those paths);
                          listed under "serviceEndpoints" in the output
  --config FILE           YAML or JSON with any startEmulator option (latencyMs, operationSpeed,
                          baseOperationMs, rateLimit, credentials, ...); flags win over the file
  --log-level LEVEL       (default info)`;

export async function runEmulator(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '18080' },
      'latency-ms': { type: 'string' },
      'operation-speed': { type: 'string' },
      config: { type: 'string' },
      'service-ports': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // Logs go to stderr: stdout carries the endpoints and credentials as one JSON document.
  const logger = createLogger({ level: values['log-level'], name: 'emulator', destination: process.stderr });
  const fromFile = values.config ? (parseYaml(readFileSync(values.config, 'utf8')) as EmulatorOptions) : {};
  const emu = await startEmulator({
    ...fromFile,
    host: values.host,
    port: Number(values.port),
    ...(values['latency-ms'] !== undefined ? { latencyMs: Number(values['latency-ms']) } : {}),
    ...(values['operation-speed'] !== undefined ? { operationSpeed: Number(values['operation-speed']) } : {}),
    ...(values['service-ports'] ? { servicePorts: true } : {}),
    logger,
  });
  // The endpoints and the credentials it accepts, for pasting into provider objects and Secrets.
  console.log(JSON.stringify({ url: emu.url, endpoints: emu.endpoints, ...(emu.serviceEndpoints ? { serviceEndpoints: emu.serviceEndpoints } : {}), credentials: emu.credentials }, null, 2));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await emu.close();
  return 0;
}
