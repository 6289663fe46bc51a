// Cloud Foundry v3 error body {"errors": [{"code": 10008, "title": "CF-UnprocessableEntity", "detail": "..."}]} → ProviderError.
import { parseJson } from '../http/client.ts';
import type { ErrorResponse } from '../http/client.ts';
import { providerHttpError, type CodeTable, type Fault } from '../http/status.ts';
import { isRecord, str } from '../common.ts';
import type { ProviderError } from '../types.ts';

/** The field a CF validation detail names: "Name must be unique in space" → "name". */
export function cfField(detail: string): string | undefined {
  const m = /^([A-Za-z_]+(?:\.[A-Za-z_]+)*)\s+(?:must|is|can't|cannot|has|are|should|was)\b/.exec(detail);
  if (m?.[1]) return m[1].toLowerCase();
  const q = /(?:field|parameter|key)\s+'?([A-Za-z_.]+)'?/i.exec(detail);
  return q?.[1];
}

const CF_TABLE: CodeTable = (f, status) => {
  const detail = f.message ?? '';
  if (status === 403) return f.code === 'CF-DeploymentsDisabled' ? { kind: 'Invalid', field: 'deployment' } : undefined;
  if (status !== 422) return undefined;
  if (f.code === 'CF-UniquenessError' || /unique|already (exists|taken)|taken/i.test(detail)) return { kind: 'Conflict' };
  if (f.code === 'CF-ScaleDisabledDuringDeployment') return { kind: 'Conflict' };
  // Kept for callers other than cancelUpdate, which decides from the code and a re-read instead.
  if (/^Cannot cancel a deployment with status/i.test(detail)) return { kind: 'Conflict' };
  return { kind: 'Invalid', field: cfField(detail) };
};

export function cfFault(text: string): Fault & { numericCode?: number } {
  const body = parseJson(text);
  const first = isRecord(body) && Array.isArray(body['errors']) && isRecord(body['errors'][0]) ? body['errors'][0] : undefined;
  if (!first) return {};
  const n = first['code'];
  return { code: str(first['title']), message: str(first['detail']), ...(typeof n === 'number' ? { numericCode: n } : {}) };
}

export function cfError(res: ErrorResponse): ProviderError {
  return providerHttpError(res, cfFault(res.text), CF_TABLE, (f) => (f.message ? cfField(f.message) : undefined));
}
