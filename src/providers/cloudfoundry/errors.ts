// Cloud Foundry v3 error body {"errors": [{"code": 10008, "title": "CF-UnprocessableEntity", "detail": "..."}]} → ProviderError.
import type { HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { isRecord, str, truncate } from '../common.ts';
import { ProviderError } from '../types.ts';

/** The field a CF validation detail names: "Name must be unique in space" → "name". */
export function cfField(detail: string): string | undefined {
  const m = /^([A-Za-z_]+(?:\.[A-Za-z_]+)*)\s+(?:must|is|can't|cannot|has|are|should|was)\b/.exec(detail);
  if (m?.[1]) return m[1].toLowerCase();
  const q = /(?:field|parameter|key)\s+'?([A-Za-z_.]+)'?/i.exec(detail);
  return q?.[1];
}

export function cfError(res: Pick<HttpResponse, 'status' | 'text' | 'retryAfterMs'>): ProviderError {
  const body = parseJson(res.text);
  const first = isRecord(body) && Array.isArray(body['errors']) && isRecord(body['errors'][0]) ? body['errors'][0] : undefined;
  const title = first ? str(first['title']) : undefined;
  const detail = truncate((first ? str(first['detail']) : undefined) ?? (res.text || `HTTP ${res.status}`));
  const d = { code: title ?? `HTTP${res.status}`, httpStatus: res.status };
  const retry = res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {};
  const s = res.status;
  if (s === 401) return new ProviderError('Unauthorized', detail, d);
  if (s === 429) return new ProviderError('Throttled', detail, { ...d, ...retry });
  if (s === 403) {
    if (title === 'CF-DeploymentsDisabled') return new ProviderError('Invalid', detail, { ...d, field: 'deployment' });
    return new ProviderError('Unauthorized', detail, d);
  }
  if (s === 404) return new ProviderError('NotFound', detail, d);
  if (s === 409) return new ProviderError('Conflict', detail, d);
  if (s === 422) {
    if (/unique|already (exists|taken)|taken/i.test(detail)) return new ProviderError('Conflict', detail, d);
    if (/^Cannot cancel a deployment with status/i.test(detail)) return new ProviderError('Conflict', detail, d);
    if (title === 'CF-ScaleDisabledDuringDeployment') return new ProviderError('Conflict', detail, d);
    const field = cfField(detail);
    return new ProviderError('Invalid', detail, { ...d, ...(field ? { field } : {}) });
  }
  if (s === 408 || s >= 500) return new ProviderError('Transient', detail, { ...d, ...retry });
  if (s >= 400) {
    const field = cfField(detail);
    return new ProviderError('Invalid', detail, { ...d, ...(field ? { field } : {}) });
  }
  return new ProviderError('Transient', `unexpected HTTP ${s}: ${detail}`, d);
}
