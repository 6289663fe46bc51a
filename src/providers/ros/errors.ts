// ROS error body {"RequestId", "Code", "Message", ...} (RPC and legacy REST alike) → ProviderError.
import type { HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { fieldFromMessage, isRecord, str, truncate } from '../common.ts';
import { ProviderError } from '../types.ts';

const AUTH_CODES = /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken|Forbidden|AccountTypeNotSupported|NoPermission|InvalidTimeStamp|SignatureNonceUsed|MissingSecurityToken|InvalidAuthorization)/;
const THROTTLE_CODES = /^(Throttling|RequestThrottled|ServiceUnavailable\.Throttl|Flow)/i;
const CONFLICT_CODES = new Set(['ActionInProgress', 'StackExists', 'LastTokenProcessing', 'OperationConflict', 'IncorrectStackStatus']);
const TRANSIENT_CODES = new Set(['InternalError', 'ServiceUnavailable', 'UnknownError', 'ServiceTimeout']);
const TEMPLATE_CODES = /^(InvalidTemplate|InvalidSchema|StackValidationFailed|CircularDependency|TemplateNotFound)/;

export function rosError(res: Pick<HttpResponse, 'status' | 'text' | 'retryAfterMs'>): ProviderError {
  const body = parseJson(res.text);
  const code = isRecord(body) ? (str(body['Code']) ?? str(body['code'])) : undefined;
  const msg = truncate((isRecord(body) ? (str(body['Message']) ?? str(body['message'])) : undefined) ?? (res.text || `HTTP ${res.status}`));
  const retry = res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {};
  const d = { code: code ?? `HTTP${res.status}`, httpStatus: res.status };
  const s = res.status;
  if (code && THROTTLE_CODES.test(code)) return new ProviderError('Throttled', msg, { ...d, ...retry });
  if (s === 429) return new ProviderError('Throttled', msg, { ...d, ...retry });
  if (code && AUTH_CODES.test(code)) return new ProviderError('Unauthorized', msg, d);
  if (s === 401 || s === 403) return new ProviderError('Unauthorized', msg, d);
  if (code === 'StackNotFound' || (s === 404 && code !== 'TemplateNotFound')) return new ProviderError('NotFound', msg, d);
  if (code && CONFLICT_CODES.has(code)) return new ProviderError('Conflict', msg, d);
  if (s === 409) return new ProviderError('Conflict', msg, d);
  if ((code && TRANSIENT_CODES.has(code)) || s === 408 || s >= 500) return new ProviderError('Transient', msg, { ...d, ...retry });
  if (s >= 400) {
    let field = fieldFromMessage(msg);
    if (!field && code && TEMPLATE_CODES.test(code)) field = 'template';
    if (!field && code && /Idempo/.test(code)) field = 'ClientToken';
    if (!field && code?.startsWith('InvalidParameter')) field = /\.(\w+)$/.exec(code)?.[1];
    return new ProviderError('Invalid', msg, { ...d, ...(field ? { field } : {}) });
  }
  return new ProviderError('Transient', `unexpected HTTP ${s}: ${msg}`, d);
}
