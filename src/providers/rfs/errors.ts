// RFS error body {"error_code": "RF.10013001", "error_msg": "..."} (APIG errors: {"error_code": "APIG.xxxx", "error_msg"}) → ProviderError.
import { parseJson } from '../http/client.ts';
import type { ErrorResponse } from '../http/client.ts';
import { providerHttpError, type CodeRule, type CodeTable, type Fault } from '../http/status.ts';
import { isRecord, str } from '../common.ts';
import type { ProviderError } from '../types.ts';

/** Codes whose kind is not what the HTTP status alone says. */
const BY_CODE: Record<string, CodeRule> = {
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

const RFS_TABLE: CodeTable = (f, status) => {
  const known = f.code ? BY_CODE[f.code] : undefined;
  if (known) return known;
  // RFS answers 403 for "not in a state that allows this" (in progress, deletion protection) as
  // well as for policy denials; without a known code, treat it as a state conflict (requeue).
  if (status === 403) return { kind: /permission|policy|denied|not authorized|unauthori/i.test(f.message ?? '') ? 'Unauthorized' : 'Conflict' };
  return undefined;
};

export function rfsFault(text: string): Fault {
  const body = parseJson(text);
  if (!isRecord(body)) return {};
  return { code: str(body['error_code']) ?? str(body['code']), message: str(body['error_msg']) ?? str(body['message']) };
}

export function rfsError(res: ErrorResponse): ProviderError {
  return providerHttpError(res, rfsFault(res.text), RFS_TABLE);
}
