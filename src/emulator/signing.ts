// Server-side verifiers for the signature schemes the emulated services accept:
//   RFS:        SDK-HMAC-SHA256 (Huawei Cloud AK/SK, header Authorization)
//   ROS RPC:    ACS3-HMAC-SHA256 (header Authorization) and signature v1 (HMAC-SHA1 query parameter)
//   ROS legacy: ROA "acs AK:signature" (HMAC-SHA1 over verb, headers and resource)
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown-key' | 'mismatch' | 'payload'; accessKeyId?: string; detail: string };

export type SecretLookup = (accessKeyId: string) => string | undefined;

/** RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - _ . ~ is escaped (space = %20). */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

/** Parse a raw query string into [key, value] pairs (decoded). */
export function queryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? [safeDecode(p), ''] : [safeDecode(p.slice(0, i)), safeDecode(p.slice(i + 1))];
    });
}

type Headers = Record<string, string | string[] | undefined>;

function headerValues(headers: Headers, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

// ----------------------------------------------------------------------------- Huawei SDK-HMAC-SHA256

export interface SignedRequest {
  method: string;
  /** raw path as sent */
  rawPath: string;
  rawQuery: string;
  headers: Headers;
  body: Buffer;
}

export function huaweiCanonicalUri(rawPath: string): string {
  const p = rawPath
    .split('/')
    .map((seg) => rfc3986(safeDecode(seg)))
    .join('/');
  return p.endsWith('/') ? p : `${p}/`;
}

export function huaweiCanonicalQuery(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of queryPairs(rawQuery)) byKey.set(k, [...(byKey.get(k) ?? []), v]);
  const out: string[] = [];
  for (const k of [...byKey.keys()].sort()) {
    for (const v of byKey.get(k)!.sort()) out.push(`${rfc3986(k)}=${rfc3986(v)}`);
  }
  return out.join('&');
}

export function verifyHuaweiSdkHmac(req: SignedRequest, lookup: SecretLookup): VerifyResult {
  const auth = headerValues(req.headers, 'authorization')[0];
  if (!auth) return { ok: false, reason: 'missing', detail: 'Authorization header is missing' };
  const m = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/.exec(auth);
  if (!m) return { ok: false, reason: 'malformed', detail: 'Authorization header is not SDK-HMAC-SHA256' };
  const [, ak, signedList, signature] = m as unknown as [string, string, string, string];
  const secret = lookup(ak);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', accessKeyId: ak, detail: `access key ${ak} does not exist` };
  const date = headerValues(req.headers, 'x-sdk-date')[0];
  if (!date) return { ok: false, reason: 'malformed', accessKeyId: ak, detail: 'X-Sdk-Date header is missing' };
  const signed = signedList.split(';');
  const canonicalHeaders =
    signed
      .map((name) =>
        headerValues(req.headers, name)
          .sort()
          .map((v) => `${name}:${v.trim()}`)
          .join('\n'),
      )
      .join('\n') + '\n';
  const payloadHash = headerValues(req.headers, 'x-sdk-content-sha256')[0] ?? sha256Hex(req.body);
  const canonical = [req.method.toUpperCase(), huaweiCanonicalUri(req.rawPath), huaweiCanonicalQuery(req.rawQuery), canonicalHeaders, signedList, payloadHash].join('\n');
  const sts = `SDK-HMAC-SHA256\n${date}\n${sha256Hex(canonical)}`;
  const expected = createHmac('sha256', secret).update(sts).digest('hex');
  if (!safeEqual(expected, signature.toLowerCase())) {
    return { ok: false, reason: 'mismatch', accessKeyId: ak, detail: 'verify aksk signature fail' };
  }
  return { ok: true, accessKeyId: ak };
}

// ----------------------------------------------------------------------------- Alibaba ACS3-HMAC-SHA256

/**
 * emptyForm: how a parameter with an empty value is written. Alibaba's official Node signer
 * (@alicloud/openapi-core, getAuthorizationQueryString) writes `key=`; issue 15 reports `key` for another
 * official util, so the verifier accepts either (see docs/fidelity.md).
 */
export function acsCanonicalQuery(rawQuery: string, emptyForm: 'key=' | 'key' = 'key='): string {
  return queryPairs(rawQuery)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' && emptyForm === 'key' ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(v)}`))
    .join('&');
}

/**
 * Canonical headers as the official signer builds them: names lowercased, the values of a repeated
 * header (or of one name sent in different cases) trimmed, sorted and joined with ",".
 */
export function acsCanonicalHeaders(headers: Headers, signed: string[]): string {
  return signed
    .map((name) => `${name}:${headerValues(headers, name)
      .map((v) => v.trim())
      .sort()
      .join(',')}\n`)
    .join('');
}

export function verifyAcs3(req: SignedRequest, lookup: SecretLookup): VerifyResult {
  const auth = headerValues(req.headers, 'authorization')[0];
  if (!auth) return { ok: false, reason: 'missing', detail: 'Authorization header is missing' };
  const m = /^ACS3-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/.exec(auth);
  if (!m) return { ok: false, reason: 'malformed', detail: 'Authorization header is not ACS3-HMAC-SHA256' };
  const [, ak, signedList, signature] = m as unknown as [string, string, string, string];
  const secret = lookup(ak);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', accessKeyId: ak, detail: 'Specified access key is not found.' };
  const bodyHash = sha256Hex(req.body);
  const declared = headerValues(req.headers, 'x-acs-content-sha256')[0];
  if (declared !== undefined && declared.toLowerCase() !== bodyHash) {
    return { ok: false, reason: 'payload', accessKeyId: ak, detail: 'x-acs-content-sha256 does not match the body' };
  }
  const canonicalHeaders = acsCanonicalHeaders(req.headers, signedList.split(';'));
  const expected = (emptyForm: 'key=' | 'key'): string => {
    const canonical = [req.method.toUpperCase(), req.rawPath || '/', acsCanonicalQuery(req.rawQuery, emptyForm), canonicalHeaders, signedList, declared ?? bodyHash].join('\n');
    return createHmac('sha256', secret).update(`ACS3-HMAC-SHA256\n${sha256Hex(canonical)}`).digest('hex');
  };
  const got = signature.toLowerCase();
  if (!safeEqual(expected('key='), got) && !safeEqual(expected('key'), got)) {
    return { ok: false, reason: 'mismatch', accessKeyId: ak, detail: 'Specified signature is not matched with our calculation.' };
  }
  return { ok: true, accessKeyId: ak };
}

// ----------------------------------------------------------------------------- Alibaba RPC signature v1

/** params: every query and form parameter (decoded), including Signature. */
export function verifyRpcV1(method: string, params: Record<string, string>, lookup: SecretLookup): VerifyResult {
  const signature = params.Signature;
  const ak = params.AccessKeyId;
  if (!signature || !ak) return { ok: false, reason: 'missing', detail: 'Signature or AccessKeyId is missing' };
  if ((params.SignatureMethod ?? 'HMAC-SHA1') !== 'HMAC-SHA1') {
    return { ok: false, reason: 'malformed', accessKeyId: ak, detail: `SignatureMethod ${params.SignatureMethod} is not supported` };
  }
  const secret = lookup(ak);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', accessKeyId: ak, detail: 'Specified access key is not found.' };
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k]!)}`)
    .join('&');
  const sts = `${method.toUpperCase()}&${rfc3986('/')}&${rfc3986(canonical)}`;
  const expected = createHmac('sha1', `${secret}&`).update(sts).digest('base64');
  if (!safeEqual(expected, signature)) {
    return { ok: false, reason: 'mismatch', accessKeyId: ak, detail: 'Specified signature is not matched with our calculation.' };
  }
  return { ok: true, accessKeyId: ak };
}

// ----------------------------------------------------------------------------- Alibaba ROA (legacy REST)

export function roaStringToSign(req: SignedRequest): string {
  const h = (n: string): string => headerValues(req.headers, n)[0] ?? '';
  const acs = Object.keys(req.headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${h(k).trim()}\n`)
    .join('');
  const pairs = queryPairs(req.rawQuery).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const resource = safeDecode(req.rawPath) + (pairs.length ? `?${pairs.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&')}` : '');
  return `${req.method.toUpperCase()}\n${h('accept')}\n${h('content-md5')}\n${h('content-type')}\n${h('date')}\n${acs}${resource}`;
}

export function verifyRoa(req: SignedRequest, lookup: SecretLookup): VerifyResult {
  const auth = headerValues(req.headers, 'authorization')[0];
  if (!auth) return { ok: false, reason: 'missing', detail: 'Authorization header is missing' };
  const m = /^acs\s+([^:\s]+):(\S+)$/.exec(auth);
  if (!m) return { ok: false, reason: 'malformed', detail: 'Authorization header is not "acs AK:signature"' };
  const [, ak, signature] = m as unknown as [string, string, string];
  const secret = lookup(ak);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', accessKeyId: ak, detail: 'Specified access key is not found.' };
  const md5 = headerValues(req.headers, 'content-md5')[0];
  if (md5 && req.body.length > 0 && createHash('md5').update(req.body).digest('base64') !== md5) {
    return { ok: false, reason: 'payload', accessKeyId: ak, detail: 'Content-MD5 does not match the body' };
  }
  const expected = createHmac('sha1', secret).update(roaStringToSign(req)).digest('base64');
  if (!safeEqual(expected, signature)) {
    return { ok: false, reason: 'mismatch', accessKeyId: ak, detail: 'Specified signature is not matched with our calculation.' };
  }
  return { ok: true, accessKeyId: ak };
}
