// --log-format: pino's JSON lines (for log collectors) or a readable text line per entry (for people,
// e.g. `npm run dev`). Text is rendered from pino's output, so redaction (src/runtime/logging.ts)
// applies to both formats.
import type { DestinationStream } from 'pino';
import { createLogger, type Logger } from '../runtime/logging.ts';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const OMIT = new Set(['time', 'level', 'msg', 'name', 'pid', 'hostname']);

function show(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as `TIME LEVEL name: msg key=value ...`, with an error's stack on indented lines. */
export function formatTextLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  const head = [text(rec.time), text(rec.level).toUpperCase().padEnd(5), rec.name ? `${text(rec.name)}:` : '', text(rec.msg)];
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(rec)) {
    if (OMIT.has(k)) continue;
    const err = v as { message?: unknown; stack?: unknown } | null;
    if (k === 'err' && err && typeof err === 'object') {
      fields.push(`err=${show(err.message)}`);
      if (typeof err.stack === 'string') stack = `\n    ${err.stack.split('\n').join('\n    ')}`;
      continue;
    }
    fields.push(`${k}=${show(v)}`);
  }
  return `${[...head.filter(Boolean), ...fields].join(' ')}${stack}\n`;
}

/** A pino destination that writes text lines to `out` (default stdout). */
export function textDestination(out: { write(s: string): unknown } = process.stdout): DestinationStream {
  return { write: (line: string) => void out.write(formatTextLine(line)) };
}

/** The operator's logger in the chosen format. */
export function cliLogger(opts: { level: string; format: LogFormat; name: string }): Logger {
  return createLogger({ level: opts.level, name: opts.name, ...(opts.format === 'text' ? { destination: textDestination() } : {}) });
}
