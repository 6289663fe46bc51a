// Credential values never reach a condition, an event or a log through an error message: a
// provider (or a proxy in front of it) may echo the request, headers and body included, in its
// error answer (docs/security.md).
import { ProviderError } from '../types.ts';

/** Values shorter than this are not redacted: they would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** Replace every occurrence of each value (and its URL-encoded form) by "[redacted]". Pure (tested). */
export function redactText(text: string, values: readonly string[]): string {
  let out = text;
  const all = values.filter((v) => v.length >= MIN_SECRET_LENGTH).flatMap((v) => [v, encodeURIComponent(v)]);
  // Longest first, so a value that contains another is replaced whole.
  for (const v of [...new Set(all)].sort((a, b) => b.length - a.length)) out = out.split(v).join('[redacted]');
  return out;
}

/** The same error with credential values cut out of its message (the error itself when clean). */
export function redactError(e: ProviderError, values: readonly string[]): ProviderError {
  const message = redactText(e.message, values);
  if (message === e.message) return e;
  return new ProviderError(e.kind, message, {
    ...(e.code !== undefined ? { code: redactText(e.code, values) } : {}),
    ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}),
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
    ...(e.field !== undefined ? { field: redactText(e.field, values) } : {}),
  });
}
