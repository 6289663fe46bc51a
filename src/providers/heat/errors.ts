// Heat error body (heat/api/middleware/fault.py) → ProviderError.
//   {"code": 404, "title": "Not Found", "explanation": "...", "error": {"type": "EntityNotFound", "message": "..."}}
import type { HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { fieldFromMessage, isRecord, str, truncate } from '../common.ts';
import { ProviderError } from '../types.ts';

/** Errors that are 400s in Heat but mean "come back later", not "your request is wrong". */
const HEAT_CONFLICT_TYPES = new Set(['ActionInProgress', 'StackExists', 'StackResourceLimitExceeded']);

export function heatError(res: Pick<HttpResponse, 'status' | 'text' | 'retryAfterMs'>): ProviderError {
  const body = parseJson(res.text);
  let type: string | undefined;
  let message: string | undefined;
  if (isRecord(body)) {
    const err = body['error'];
    if (isRecord(err)) {
      type = str(err['type']);
      message = str(err['message']);
    }
    message ??= str(body['explanation']) ?? str(body['title']) ?? str(body['message']);
  }
  message = truncate(message ?? (res.text || `HTTP ${res.status}`));
  const d = { code: type ?? `HTTP${res.status}`, httpStatus: res.status };
  const s = res.status;
  if (s === 401) return new ProviderError('Unauthorized', message, d);
  if (s === 403) return new ProviderError('Unauthorized', message, d);
  if (s === 404) return new ProviderError('NotFound', message, d);
  if (s === 409 || (type && HEAT_CONFLICT_TYPES.has(type))) return new ProviderError('Conflict', message, d);
  if (s === 429 || type === 'OverLimit') {
    return new ProviderError('Throttled', message, { ...d, ...(res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}) });
  }
  if (s === 408 || s >= 500) return new ProviderError('Transient', message, { ...d, ...(res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}) });
  if (s >= 400) {
    const field = fieldFromMessage(message) ?? (type?.startsWith('InvalidTemplate') || type === 'StackValidationFailed' ? 'template' : undefined);
    return new ProviderError('Invalid', message, { ...d, ...(field ? { field } : {}) });
  }
  return new ProviderError('Transient', `unexpected HTTP ${s}: ${message}`, d);
}
