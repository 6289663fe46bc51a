// RFS error body {"error_code": "RF.10013001", "error_msg": "..."} (APIG errors: {"error_code": "APIG.xxxx", "error_msg"}) → ProviderError.
import type { HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { fieldFromMessage, isRecord, str, truncate } from '../common.ts';
import { ProviderError, type ProviderErrorKind } from '../types.ts';

/** Codes whose kind is not what the HTTP status alone says. */
const BY_CODE: Record<string, { kind: ProviderErrorKind; field?: string }> = {
  // stack_id does not match the named stack: the stack we own is gone (a same-name one exists).
  'RF.10011015': { kind: 'NotFound' },
  'RF.10011018': { kind: 'NotFound' },
  'RF.10011003': { kind: 'Invalid', field: 'template' },
  'RF.10011056': { kind: 'Invalid', field: 'template' },
  'RF.10011073': { kind: 'Invalid', field: 'template' },
  'RF.10011074': { kind: 'Invalid', field: 'template' },
  'RF.10011032': { kind: 'Invalid', field: 'body' },
  'RF.10011033': { kind: 'Invalid', field: 'body' },
  'RF.10012001': { kind: 'Unauthorized' },
  'RF.10012507': { kind: 'Unauthorized' },
  'RF.10012538': { kind: 'Invalid', field: 'stack quota' },
  'RF.10012540': { kind: 'Conflict' }, // too many parallel creates: later
  'RF.10012542': { kind: 'Conflict' },
  'RF.10012544': { kind: 'Conflict' }, // cannot delete in this status (in progress)
  'RF.10012546': { kind: 'Invalid', field: 'enableAutoRollback' },
  'RF.10012547': { kind: 'Conflict' },
  'RF.10013501': { kind: 'Conflict' },
  'RF.10013502': { kind: 'Conflict' },
  'RF.10013503': { kind: 'Conflict' },
  'RF.10014001': { kind: 'Throttled' },
};

export function rfsError(res: Pick<HttpResponse, 'status' | 'text' | 'retryAfterMs'>): ProviderError {
  const body = parseJson(res.text);
  const code = isRecord(body) ? (str(body['error_code']) ?? str(body['code'])) : undefined;
  const msg = truncate((isRecord(body) ? (str(body['error_msg']) ?? str(body['message'])) : undefined) ?? (res.text || `HTTP ${res.status}`));
  const retry = res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {};
  const d = { code: code ?? `HTTP${res.status}`, httpStatus: res.status };
  const s = res.status;
  const known = code ? BY_CODE[code] : undefined;
  if (known) {
    const field = known.kind === 'Invalid' ? (known.field ?? fieldFromMessage(msg)) : undefined;
    return new ProviderError(known.kind, msg, { ...d, ...(known.kind === 'Throttled' ? retry : {}), ...(field ? { field } : {}) });
  }
  if (s === 401) return new ProviderError('Unauthorized', msg, d);
  if (s === 404) return new ProviderError('NotFound', msg, d);
  if (s === 409) return new ProviderError('Conflict', msg, d);
  if (s === 429) return new ProviderError('Throttled', msg, { ...d, ...retry });
  // RFS answers 403 for "not in a state that allows this" (in progress, deletion protection) as
  // well as for policy denials; without a known code, treat it as a state conflict (requeue).
  if (s === 403) return new ProviderError(/permission|policy|denied|not authorized|unauthori/i.test(msg) ? 'Unauthorized' : 'Conflict', msg, d);
  if (s === 408 || s >= 500) return new ProviderError('Transient', msg, { ...d, ...retry });
  if (s >= 400) {
    const field = fieldFromMessage(msg);
    return new ProviderError('Invalid', msg, { ...d, ...(field ? { field } : {}) });
  }
  return new ProviderError('Transient', `unexpected HTTP ${s}: ${msg}`, d);
}
