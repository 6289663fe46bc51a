// The one HTTP-status-to-error-kind fallback every adapter shares (issue 12 item 5). Each provider
// parses its own error body into a Fault (code + message fields only) and keeps a small table of
// codes whose kind differs from what the status alone says; everything else falls through here.
// Messages are only ever the provider's message field, cut to 500 characters: never a raw body
// (an HTML error page from a proxy or load balancer says nothing useful and may be huge).
import { fieldFromMessage, truncate } from '../common.ts';
import { ProviderError, type ProviderErrorKind } from '../types.ts';

/** What a provider's error body says, reduced to its code and message fields. */
export interface Fault {
  code?: string | undefined;
  message?: string | undefined;
}

/** A provider-specific decision for a code (or a status + message): kind and, for Invalid, the field. */
export interface CodeRule {
  kind: ProviderErrorKind;
  field?: string | undefined;
}

/** Provider table: a rule for this fault, or undefined to use the status fallback. */
export type CodeTable = (fault: Fault, status: number) => CodeRule | undefined;

/** Kind from the HTTP status alone. */
export function statusKind(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'Unauthorized';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 429) return 'Throttled';
  if (status === 408 || status >= 500) return 'Transient';
  if (status >= 400) return 'Invalid';
  return 'Transient';
}

/** The message shown to users: the provider's message field, else a short status line (never the body). */
export function faultMessage(fault: Fault, status: number, contentType?: string): string {
  if (fault.message && fault.message.trim() !== '') return truncate(fault.message);
  const type = contentType ? ` (${contentType.split(';')[0]?.trim()} body not shown)` : '';
  return `HTTP ${status}${fault.code ? ` ${fault.code}` : ''}${type}`;
}

/**
 * Build the ProviderError for a non-accepted response: the provider's table first, then the status
 * ladder. Throttled and Transient carry Retry-After; Invalid names a field when one can be found.
 */
export function providerHttpError(
  res: { status: number; retryAfterMs?: number | undefined; headers?: Record<string, string> | undefined },
  fault: Fault,
  table?: CodeTable,
  fieldHint?: (fault: Fault) => string | undefined,
): ProviderError {
  const s = res.status;
  const rule = table?.(fault, s);
  const kind = rule?.kind ?? statusKind(s);
  const message = faultMessage(fault, s, res.headers?.['content-type']);
  const details: { code: string; httpStatus: number; retryAfterMs?: number; field?: string } = { code: fault.code ?? `HTTP${s}`, httpStatus: s };
  if ((kind === 'Throttled' || kind === 'Transient') && res.retryAfterMs !== undefined) details.retryAfterMs = res.retryAfterMs;
  if (kind === 'Invalid') {
    const field = rule?.field ?? fieldFromMessage(fault.message) ?? fieldHint?.(fault);
    if (field) details.field = field;
  }
  const unexpected = s < 400 && !rule;
  return new ProviderError(kind, unexpected ? `unexpected HTTP ${s}: ${message}` : message, details);
}
