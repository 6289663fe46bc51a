// Retry-After parsing and the jittered backoff used between attempts of one provider call.
// Pure functions: the clock and the random source are parameters.

/**
 * Parse a Retry-After header value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * Returns milliseconds to wait (never negative), or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | string[] | undefined | null, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null) return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) {
    const seconds = Number(s);
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
  }
  // An HTTP-date always names a weekday or a month; refuse anything else Date.parse would guess at.
  if (!/[A-Za-z]{3}/.test(s)) return undefined;
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential from `baseMs`, capped at `capMs`,
 * "equal jitter" (half fixed, half random) so retries of many callers spread out but never hit zero.
 */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 250, capMs = 5000): number {
  const exp = Math.min(capMs, baseMs * Math.pow(2, Math.max(0, attempt - 1)));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
