// Error taxonomy for the runtime and its callers: classify once, here.
//
// - TerminalError: retrying will not help until the object changes (invalid spec, permanent provider
//   refusal). The controller logs and counts it, then waits for the next change of the object.
// - Anything else is transient: rate-limited requeue (per-key backoff); an optional `retryAfterMs`
//   on the error (e.g. from a 429's Retry-After) sets a floor for the delay.
// - API errors: client-node's ApiException (`code`, `body` = V1Status). Our KubeClient throws the
//   same class, so one set of helpers reads both.
// The class's own module: client-node's index loads its whole generated API (kube-client.ts).
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';

/** Do not retry until the object changes. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A transient failure; `retryAfterMs` asks for at least this delay before the retry. */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/**
 * An optimistic-concurrency failure: 409 Conflict on a resourceVersion precondition, or a failed JSON
 * Patch `test`. Transient: re-read (the informer will deliver the newer object) and retry.
 */
export class ConflictError extends TransientError {
  override readonly name = 'ConflictError';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

export function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError;
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { retryAfterSeconds?: number; causes?: { message?: string }[] };
}

/** The HTTP status carried by an error (ApiException.code, statusCode, status), if any. */
export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  for (const v of [e.statusCode, e.code, e.status]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}

function statusBody(err: unknown): StatusBody | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body) : undefined;
}

/** The Status `reason` (NotFound, Conflict, AlreadyExists, Invalid, Expired, ...), if any. */
export function statusReason(err: unknown): string | undefined {
  return statusBody(err)?.reason;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
/** 409 Conflict (optimistic concurrency), not AlreadyExists (also 409). */
export const isConflict = (err: unknown): boolean =>
  err instanceof ConflictError || (statusCode(err) === 409 && statusReason(err) !== 'AlreadyExists');
export const isAlreadyExists = (err: unknown): boolean => statusCode(err) === 409 && statusReason(err) === 'AlreadyExists';
/** 410 Gone / Expired: a resourceVersion or continue token too old. */
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
export const isInvalid = (err: unknown): boolean => statusCode(err) === 422;
export const isBadRequest = (err: unknown): boolean => statusCode(err) === 400;
export const isForbidden = (err: unknown): boolean => statusCode(err) === 403;
export const isUnauthorized = (err: unknown): boolean => statusCode(err) === 401;
export const isTooManyRequests = (err: unknown): boolean => statusCode(err) === 429;
export const isServerError = (err: unknown): boolean => (statusCode(err) ?? 0) >= 500;

/** undici's own errors (its `request()`, kube-client.ts) for a connection that failed or a request cut off. */
const UNDICI_NETWORK_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORT',
  'UND_ERR_ABORTED',
  'UND_ERR_INFO',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** True for errors that never got an HTTP status: connection refused/reset, DNS, TLS, timeouts, aborts. */
export function isNetworkError(err: unknown): boolean {
  if (statusCode(err) !== undefined) return false;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    (typeof code === 'string' && UNDICI_NETWORK_CODES.has(code)) ||
    err.name === 'TypeError' /* undici's fetch: "fetch failed" */ ||
    err.name === 'AbortError' ||
    err.name === 'TimeoutError' ||
    /ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|socket|other side closed/i.test(`${err.message} ${String((err as { cause?: unknown }).cause)}`)
  );
}

/** Retry-After from an error: `retryAfterMs` property, Retry-After header, or Status details. */
export function retryAfterMs(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const direct = (err as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof direct === 'number' && direct >= 0) return direct;
  const headers = (err as { headers?: Record<string, string> }).headers;
  const h = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (h !== undefined && /^\d+$/.test(h.trim())) return Number(h.trim()) * 1000;
  const secs = statusBody(err)?.details?.retryAfterSeconds;
  if (typeof secs === 'number') return secs * 1000;
  return undefined;
}

/**
 * A log-safe summary: code, reason and message only. (ApiException.message inlines the response
 * headers and body; never log it whole.)
 */
export function errorSummary(err: unknown): { code?: number; reason?: string; message: string; name?: string } {
  const code = statusCode(err);
  const body = statusBody(err);
  if (code !== undefined) {
    return { code, reason: body?.reason, message: body?.message ?? (err instanceof Error ? err.message.slice(0, 300) : String(err)) };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}
