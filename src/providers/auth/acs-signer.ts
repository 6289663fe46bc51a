// Alibaba Cloud request signing, three schemes, all pure (date and nonce are inputs):
//  - ACS3-HMAC-SHA256 (V3, what current SDKs send): signs method, path, sorted query, the host,
//    content-type and x-acs-* headers, and the hex SHA-256 of the body;
//  - RPC signature V1 (HMAC-SHA1) over the sorted, percent-encoded parameters (query and form body);
//  - ROA signature (legacy REST 2015-09-01): "acs AK:base64(HMAC-SHA1(secret, StringToSign))".
import { createHash, createHmac } from 'node:crypto';
import { percentEncode } from './encoding.ts';

export const ACS3 = 'ACS3-HMAC-SHA256';

export function sha256HexOf(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** V3 canonical query: keys sorted, `k=v` percent-encoded, a key with an empty value as just `k` (official util). */
export function acs3CanonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((k) => {
      const v = percentEncode(query[k] ?? '');
      return v === '' ? percentEncode(k) : `${percentEncode(k)}=${v}`;
    })
    .join('&');
}

export interface Acs3Input {
  method: string;
  /** Canonical URI (path), "/" for RPC. */
  path: string;
  query: Record<string, string>;
  /** All request headers; host, content-type and x-acs-* are signed. */
  headers: Record<string, string>;
  /** hex SHA-256 of the body (x-acs-content-sha256). */
  hashedPayload: string;
  accessKeyId: string;
  secret: string;
}

export function signAcs3(input: Acs3Input): { authorization: string; canonicalRequest: string; stringToSign: string; signedHeaders: string } {
  const grouped = new Map<string, string[]>();
  for (const [k, v] of Object.entries(input.headers)) {
    const key = k.toLowerCase();
    if (key !== 'host' && key !== 'content-type' && !key.startsWith('x-acs-')) continue;
    const list = grouped.get(key) ?? [];
    list.push(v.trim());
    grouped.set(key, list);
  }
  const keys = [...grouped.keys()].sort();
  const canonicalHeaders = keys.map((k) => `${k}:${(grouped.get(k) ?? []).sort().join(',')}\n`).join('');
  const signedHeaders = keys.join(';');
  const canonicalUri = input.path === '' ? '' : input.path.split('/').map(percentEncode).join('/');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri,
    acs3CanonicalQuery(input.query),
    canonicalHeaders,
    signedHeaders,
    input.hashedPayload,
  ].join('\n');
  const stringToSign = `${ACS3}\n${sha256HexOf(canonicalRequest)}`;
  const signature = createHmac('sha256', input.secret).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `${ACS3} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`,
    canonicalRequest,
    stringToSign,
    signedHeaders,
  };
}

/** RPC V1: StringToSign = METHOD & %2F & enc(sorted `enc(k)=enc(v)` joined by &). */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function signRpcV1(method: string, params: Record<string, string>, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');
}

/** ROA (legacy REST) StringToSign. `headers` lower-cased; query values raw (not encoded), as the official util. */
export function roaStringToSign(method: string, pathname: string, headers: Record<string, string>, query: Record<string, string>): string {
  const h = (k: string): string => headers[k] ?? '';
  const head = `${method.toUpperCase()}\n${h('accept')}\n${h('content-md5')}\n${h('content-type')}\n${h('date')}\n`;
  const acs = Object.keys(headers)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${headers[k]}\n`)
    .join('');
  const keys = Object.keys(query).sort();
  const resource =
    keys.length === 0 ? pathname : `${pathname}?${keys.map((k) => (query[k] === '' ? k : `${k}=${query[k]}`)).join('&')}`;
  return head + acs + resource;
}

export function signRoa(stringToSign: string, secret: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

export function contentMd5(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('base64');
}

/** ISO 8601 UTC to the second: 2023-10-26T10:22:32Z */
export function acsDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
