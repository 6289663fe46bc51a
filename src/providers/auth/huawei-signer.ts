// Huawei Cloud API-gateway signing, SDK-HMAC-SHA256 (as core/auth/signer/signer.go in
// huaweicloud-sdk-go-v3). Pure: the caller supplies X-Sdk-Date.
//   CanonicalRequest = METHOD \n CanonicalURI(segments escaped, trailing "/") \n CanonicalQuery \n
//                      CanonicalHeaders(name:trimmed value \n ...) \n SignedHeaders \n hex(sha256(body))
//   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
//   Signature        = hex(HMAC-SHA256(SK, StringToSign))
// Signed headers: every header given, lower-cased, except Content-Type and names with "_" (the
// official SDK skips those); X-Sdk-Content-Sha256, when present, replaces the body hash.
import { createHash, createHmac } from 'node:crypto';
import { percentEncode } from './encoding.ts';

export const HUAWEI_ALGORITHM = 'SDK-HMAC-SHA256';

export interface HuaweiSignInput {
  method: string;
  /** Decoded path, e.g. /v1/p/stacks/my-stack */
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body: string;
  accessKeyId: string;
  secretKey: string;
}

export interface HuaweiSignature {
  authorization: string;
  signedHeaders: string[];
  canonicalRequest: string;
  stringToSign: string;
}

export function huaweiCanonicalUri(path: string): string {
  const p = path.split('/').map(percentEncode).join('/');
  return p.endsWith('/') ? p : `${p}/`;
}

export function huaweiCanonicalQuery(query: Array<[string, string]>): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of query) {
    const list = byKey.get(k) ?? [];
    list.push(v);
    byKey.set(k, list);
  }
  const parts: string[] = [];
  for (const k of [...byKey.keys()].sort()) {
    for (const v of (byKey.get(k) ?? []).sort()) parts.push(`${percentEncode(k)}=${percentEncode(v)}`);
  }
  return parts.join('&');
}

export function signHuawei(input: HuaweiSignInput): HuaweiSignature {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(input.headers)) lower.set(k.toLowerCase(), v);
  const date = lower.get('x-sdk-date');
  if (!date) throw new Error('X-Sdk-Date header is required for SDK-HMAC-SHA256 signing');
  const signedHeaders = [...lower.keys()].filter((k) => !k.startsWith('content-type') && !k.includes('_')).sort();
  const canonicalHeaders = signedHeaders.map((k) => `${k}:${(lower.get(k) ?? '').trim()}`).join('\n') + '\n';
  const payloadHash = lower.get('x-sdk-content-sha256') ?? createHash('sha256').update(input.body, 'utf8').digest('hex');
  const canonicalRequest = [
    input.method.toUpperCase(),
    huaweiCanonicalUri(input.path),
    huaweiCanonicalQuery(input.query),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = `${HUAWEI_ALGORITHM}\n${date}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
  const signature = createHmac('sha256', input.secretKey).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `${HUAWEI_ALGORITHM} Access=${input.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
    signedHeaders,
    canonicalRequest,
    stringToSign,
  };
}

/** X-Sdk-Date format: YYYYMMDDTHHMMSSZ (UTC). */
export function sdkDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
