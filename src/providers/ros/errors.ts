// ROS error body {"RequestId", "Code", "Message", ...} (RPC and legacy REST alike) → ProviderError.
import { parseJson } from '../http/client.ts';
import type { ErrorResponse } from '../http/client.ts';
import { providerHttpError, type CodeTable, type Fault } from '../http/status.ts';
import { isRecord, str } from '../common.ts';
import type { ProviderError } from '../types.ts';

const AUTH_CODES = /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken|Forbidden|AccountTypeNotSupported|NoPermission|InvalidTimeStamp|SignatureNonceUsed|MissingSecurityToken|InvalidAuthorization)/;
const THROTTLE_CODES = /^(Throttling|RequestThrottled|ServiceUnavailable\.Throttl|Flow)/i;
const CONFLICT_CODES = new Set(['ActionInProgress', 'StackExists', 'LastTokenProcessing', 'OperationConflict', 'IncorrectStackStatus']);
const TRANSIENT_CODES = new Set(['InternalError', 'ServiceUnavailable', 'UnknownError', 'ServiceTimeout']);
const TEMPLATE_CODES = /^(InvalidTemplate|InvalidSchema|StackValidationFailed|CircularDependency|TemplateNotFound)/;

// Order matters: throttling, then authentication, then "not found", conflicts, transient faults
// (a code in one group wins over the status of a later one, e.g. 429 InternalError is Throttled).
const ROS_TABLE: CodeTable = (f, status) => {
  const code = f.code ?? '';
  if (THROTTLE_CODES.test(code) || status === 429) return { kind: 'Throttled' };
  if (AUTH_CODES.test(code) || status === 401 || status === 403) return { kind: 'Unauthorized' };
  if (code === 'StackNotFound') return { kind: 'NotFound' };
  // A 404 NotSupported (the legacy REST API answering for an operation it lacks) is terminal, not "gone".
  if (status === 404 && code === 'NotSupported') return { kind: 'Invalid', field: 'spec.ros.apiVersion' };
  if (status === 404 && code === 'TemplateNotFound') return { kind: 'Invalid', field: 'template' };
  if (status === 404) return undefined;
  if (CONFLICT_CODES.has(code)) return { kind: 'Conflict' };
  if (TRANSIENT_CODES.has(code)) return { kind: 'Transient' };
  return undefined;
};

function rosField(f: Fault): string | undefined {
  const code = f.code;
  if (!code) return undefined;
  if (TEMPLATE_CODES.test(code)) return 'template';
  if (/Idempo/.test(code)) return 'ClientToken';
  if (code.startsWith('InvalidParameter')) return /\.(\w+)$/.exec(code)?.[1];
  return undefined;
}

export function rosFault(text: string): Fault {
  const body = parseJson(text);
  if (!isRecord(body)) return {};
  return { code: str(body['Code']) ?? str(body['code']), message: str(body['Message']) ?? str(body['message']) };
}

export function rosError(res: ErrorResponse): ProviderError {
  return providerHttpError(res, rosFault(res.text), ROS_TABLE, rosField);
}
