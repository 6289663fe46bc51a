// Heat error body (heat/api/middleware/fault.py) → ProviderError.
//   {"code": 404, "title": "Not Found", "explanation": "...", "error": {"type": "EntityNotFound", "message": "..."}}
import { parseJson } from '../http/client.ts';
import { providerHttpError, type CodeTable, type Fault } from '../http/status.ts';
import type { ErrorResponse } from '../http/client.ts';
import { isRecord, str } from '../common.ts';
import type { ProviderError } from '../types.ts';

/** Errors that are 400s in Heat but mean "come back later", not "your request is wrong". */
const HEAT_CONFLICT_TYPES = new Set(['ActionInProgress', 'StackExists', 'StackResourceLimitExceeded']);

const HEAT_TABLE: CodeTable = (f) => {
  if (f.code && HEAT_CONFLICT_TYPES.has(f.code)) return { kind: 'Conflict' };
  if (f.code === 'OverLimit') return { kind: 'Throttled' };
  return undefined;
};

export function heatFault(text: string): Fault {
  const body = parseJson(text);
  if (!isRecord(body)) return {};
  const err = isRecord(body['error']) ? body['error'] : {};
  return { code: str(err['type']), message: str(err['message']) ?? str(body['explanation']) ?? str(body['title']) ?? str(body['message']) };
}

export function heatError(res: ErrorResponse): ProviderError {
  return providerHttpError(res, heatFault(res.text), HEAT_TABLE, (f) =>
    f.code?.startsWith('InvalidTemplate') || f.code === 'StackValidationFailed' ? 'template' : undefined,
  );
}
