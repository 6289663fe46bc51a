// pino JSON logger factory: JSON lines to stdout (or a given destination), level from options or
// LOG_LEVEL, ISO timestamps, and redaction of secret-looking fields. Redaction is a safety net only:
// never log whole objects we did not build (API error messages inline response bodies and headers).
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Field names whose values are always replaced by "[REDACTED]", at the top level and one level down. */
export const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'bearerToken',
  'apiKey',
  'api_key',
  'accessKey',
  'accessKeyId',
  'accessKeySecret',
  'secretKey',
  'secretAccessKey',
  'privateKey',
  'clientSecret',
  'credentials',
  'cookie',
  'x-auth-token',
  'x-subject-token',
  'x-api-key',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const f of SECRET_FIELDS) {
    const seg = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
    const dot = seg.startsWith('[') ? '' : '.';
    paths.push(seg, `*${dot}${seg}`, `*.*${dot}${seg}`);
  }
  // Header bags and Secret bodies.
  paths.push('headers.*', '*.headers.authorization', '*.headers.Authorization', 'data', 'stringData', '*.data', '*.stringData');
  return [...new Set(paths)];
}

export interface LoggerOptions {
  /** Default: LOG_LEVEL or 'info'. */
  level?: string;
  /** Added as `name` to every line. */
  name?: string;
  /** Where to write; default stdout (synchronous). */
  destination?: DestinationStream;
  /** Extra redaction paths (pino/fast-redact syntax). */
  redact?: string[];
  /** Base bindings added to every line. */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    name: opts.name,
    base: opts.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...redactPaths(), ...(opts.redact ?? [])], censor: '[REDACTED]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything (default for library objects created without one). */
export const silentLogger: Logger = pino({ level: 'silent' });

const LEVEL_METHODS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const noop = (): void => {};

/**
 * `parent.child(bindings)`, created on first use. pino's child() writes its bindings out at once
 * (about 20 µs with the redaction paths above) and most reconciles log nothing at the enabled level, so
 * a controller's per-reconcile logger is made this way: a call at a level the parent has disabled is
 * a no-op that creates nothing; any other use creates the child and goes to it.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings));
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (child === undefined && typeof prop === 'string' && LEVEL_METHODS.has(prop) && !parent.isLevelEnabled(prop)) return noop;
      const c = real();
      const value: unknown = Reflect.get(c, prop, c);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(c) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(real(), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(real(), prop);
    },
  });
}
