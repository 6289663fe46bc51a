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
