// Flag parsing shared by the CLI commands: flags with environment-variable fallbacks, and usage
// errors that the entry point prints as one line (plus the usage for unknown flags) with exit 2.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../stacks/resolve.ts';

/** A mistake in the command line or its environment: one line on stderr, exit 2, no stack trace. */
export class UsageError extends Error {
  /** Printed after the message when set (unknown flags, stray arguments). */
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  short?: string;
  /** Environment variables read, in order, when the flag is absent (a flag wins over the environment). */
  env?: string[];
}

export type FlagValues = Record<string, string | boolean | undefined>;

/** Prefix of the environment variable every `run` flag has: --poll-interval -> STACK_OPERATOR_POLL_INTERVAL. */
export const ENV_PREFIX = 'STACK_OPERATOR_';

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

function fromEnv(flag: string, spec: FlagSpec, env: NodeJS.ProcessEnv): [string | boolean, string] | undefined {
  for (const name of spec.env ?? []) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (spec.type === 'string') return [raw, name];
    if (/^(true|1)$/i.test(raw)) return [true, name];
    if (/^(false|0)$/i.test(raw)) return [false, name];
    throw new UsageError(`${name}=${raw} (for --${flag}): expected true or false`);
  }
  return undefined;
}

export interface ParsedFlags {
  values: FlagValues;
  /** Where each value came from, for error messages: "--poll-interval", "WATCH_NAMESPACE" or "default". */
  from: Record<string, string>;
}

/** parseArgs (strict), then each absent flag from its environment variables, then its default. */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, usage: string, env = process.env): ParsedFlags {
  const options = Object.fromEntries(
    Object.entries(specs).map(([k, s]) => [k, s.short ? { type: s.type, short: s.short } : { type: s.type }]),
  );
  let values: FlagValues;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: FlagValues });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(err.message, usage);
    throw err;
  }
  const out: ParsedFlags = { values: {}, from: {} };
  for (const [k, s] of Object.entries(specs)) {
    const e = values[k] === undefined ? fromEnv(k, s, env) : undefined;
    out.values[k] = values[k] ?? e?.[0] ?? s.default;
    out.from[k] = values[k] !== undefined ? `--${k}` : (e?.[1] ?? 'default');
  }
  return out;
}

/** node:util parseArgs' own errors (unknown option, missing value, positional...). */
export function isParseArgsError(err: unknown): err is Error {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** A strictly positive duration (500ms, 30s, 5m, 1h30m); anything else is a UsageError, never a default. */
export function durationFlag(source: string, text: string): number {
  const ms = parseDuration(text, Number.NaN);
  if (!Number.isFinite(ms)) throw new UsageError(`${source} ${JSON.stringify(text)}: expected a positive duration such as 500ms, 30s, 5m or 1h30m`);
  return ms;
}

/** The version in package.json (two levels above both src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** A controller-runtime style bind address: HOST:PORT, :PORT (all interfaces), or 0 (off). */
export function bindAddress(text: string, source: string): { host: string; port: number } | false {
  if (text === '0' || text === '') return false;
  const i = text.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : text.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(text.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${source} ${JSON.stringify(text)}: expected HOST:PORT, :PORT or 0`);
  return { host, port };
}
