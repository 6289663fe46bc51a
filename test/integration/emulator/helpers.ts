/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment -- tests read untyped JSON bodies */
// Test-side helpers: tiny client signers (written independently of the emulator's verifiers and of the
// production signers in src/providers), token helpers and a bounded poller.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Emulator } from '../../../src/emulator/index.ts';

export async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

// ---------------------------------------------------------------- keystone / heat

export async function keystoneToken(emu: Emulator, method: 'password' | 'application_credential' = 'password'): Promise<{ token: string; body: any }> {
  const k = emu.credentials.keystone;
  const identity =
    method === 'password'
      ? { methods: ['password'], password: { user: { name: k.username, domain: { name: k.userDomainName }, password: k.password } } }
      : { methods: ['application_credential'], application_credential: { id: k.applicationCredential.id, secret: k.applicationCredential.secret } };
  const auth: Record<string, unknown> = { identity };
  if (method === 'password') auth.scope = { project: { name: k.projectName, domain: { name: k.projectDomainName } } };
  const r = await call(`${emu.endpoints.keystone}/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth }) });
  if (r.status !== 201) throw new Error(`keystone auth failed: ${r.status} ${r.text}`);
  return { token: r.headers.get('x-subject-token')!, body: r.body };
}

// ---------------------------------------------------------------- Huawei SDK-HMAC-SHA256

function enc(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function hex256(d: string | Buffer): string {
  return createHash('sha256').update(d).digest('hex');
}

function sdkDate(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Returns the headers to send (incl. Authorization) for an RFS request. */
export function signHuawei(method: string, url: string, body: string, ak: string, sk: string, extra: Record<string, string> = {}): Record<string, string> {
  const u = new URL(url);
  const headers: Record<string, string> = { host: u.host, 'content-type': 'application/json', 'x-sdk-date': sdkDate(), 'client-request-id': randomUUID(), ...extra };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower: Record<string, string> = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const segments = u.pathname.split('/').map((s) => enc(decodeURIComponent(s)));
  let uri = segments.join('/');
  if (!uri.endsWith('/')) uri += '/';
  const q = [...u.searchParams.entries()].sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1)).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]!.trim()}\n`).join('');
  const payload = lower['x-sdk-content-sha256'] ?? hex256(body);
  const creq = `${method}\n${uri}\n${q}\n${canonicalHeaders}\n${names.join(';')}\n${payload}`;
  const sts = `SDK-HMAC-SHA256\n${lower['x-sdk-date']}\n${hex256(creq)}`;
  const sig = createHmac('sha256', sk).update(sts).digest('hex');
  return { ...headers, authorization: `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names.join(';')}, Signature=${sig}` };
}

export async function rfsCall(emu: Emulator, method: string, path: string, body?: unknown, opts: { sk?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = `${emu.endpoints.rfs}/v1/${emu.credentials.rfs.projectId}${path}`;
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers = signHuawei(method, url, text, emu.credentials.rfs.accessKeyId, opts.sk ?? emu.credentials.rfs.secretAccessKey, opts.headers);
  return call(url, { method, headers, ...(text ? { body: text } : {}) });
}

// ---------------------------------------------------------------- Alibaba

function pct(s: string): string {
  return encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\*/g, '%2A');
}

/** RPC signature v1: returns the full query string including Signature. */
export function signRpcV1(method: string, params: Record<string, string>, ak: string, secret: string): string {
  const all: Record<string, string> = {
    Format: 'JSON',
    Version: '2019-09-10',
    AccessKeyId: ak,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...params,
  };
  const canon = Object.keys(all).sort().map((k) => `${pct(k)}=${pct(all[k]!)}`).join('&');
  const sts = `${method}&${pct('/')}&${pct(canon)}`;
  const sig = createHmac('sha1', `${secret}&`).update(sts).digest('base64');
  return `${canon}&Signature=${pct(sig)}`;
}

/** ACS3-HMAC-SHA256 like the current official SDK: params in the query, TemplateBody in a form body. */
export function signAcs3(url: string, action: string, query: Record<string, string>, form: Record<string, string>, ak: string, secret: string): { url: string; init: RequestInit } {
  const u = new URL(url);
  const qs = Object.keys(query).sort().map((k) => `${pct(k)}=${pct(query[k]!)}`).join('&');
  const body = Object.keys(form).length ? new URLSearchParams(form).toString() : '';
  const headers: Record<string, string> = {
    host: u.host,
    'x-acs-action': action,
    'x-acs-version': '2019-09-10',
    'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': hex256(body),
  };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const signed = Object.keys(headers).sort();
  const creq = ['POST', u.pathname, qs, signed.map((h) => `${h}:${headers[h]}\n`).join(''), signed.join(';'), headers['x-acs-content-sha256']].join('\n');
  const sig = createHmac('sha256', secret).update(`ACS3-HMAC-SHA256\n${hex256(creq)}`).digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${ak},SignedHeaders=${signed.join(';')},Signature=${sig}`;
  return { url: `${u.origin}${u.pathname}?${qs}`, init: { method: 'POST', headers, ...(body ? { body } : {}) } };
}

export async function rosRpc(emu: Emulator, action: string, params: Record<string, string>, opts: { v1?: boolean; secret?: string } = {}): Promise<Reply> {
  const ak = emu.credentials.ros.accessKeyId;
  const secret = opts.secret ?? emu.credentials.ros.secretAccessKey;
  const all = { RegionId: emu.credentials.ros.regionId, ...params };
  if (opts.v1) {
    const qs = signRpcV1('GET', { Action: action, ...all }, ak, secret);
    return call(`${emu.endpoints.ros}?${qs}`);
  }
  const { TemplateBody, ...query } = all as Record<string, string>;
  const { url, init } = signAcs3(emu.endpoints.ros, action, query, TemplateBody !== undefined ? { TemplateBody } : {}, ak, secret);
  return call(url, init);
}

/** ROA (2015-09-01) signature. */
export function signRoa(method: string, url: string, body: string, ak: string, secret: string, region: string): Record<string, string> {
  const u = new URL(url);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/json;charset=utf-8',
    date: new Date().toUTCString(),
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-version': '2015-09-01',
    'x-acs-region-id': region,
  };
  if (body) headers['content-md5'] = createHash('md5').update(body).digest('base64');
  const acs = Object.keys(headers).filter((h) => h.startsWith('x-acs-')).sort().map((h) => `${h}:${headers[h]}\n`).join('');
  const q = [...u.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => (v ? `${k}=${v}` : k)).join('&');
  const resource = decodeURIComponent(u.pathname) + (q ? `?${q}` : '');
  const sts = `${method}\n${headers.accept}\n${headers['content-md5'] ?? ''}\n${headers['content-type']}\n${headers.date}\n${acs}${resource}`;
  headers.authorization = `acs ${ak}:${createHmac('sha1', secret).update(sts).digest('base64')}`;
  return headers;
}

// ---------------------------------------------------------------- UAA / CF

export async function uaaToken(emu: Emulator, grant: 'client_credentials' | 'password' = 'client_credentials'): Promise<any> {
  const cf = emu.credentials.cloudFoundry;
  const form = grant === 'client_credentials' ? new URLSearchParams({ grant_type: grant }) : new URLSearchParams({ grant_type: grant, username: cf.username, password: cf.password });
  const [id, secret] = grant === 'client_credentials' ? [cf.clientId, cf.clientSecret] : [cf.passwordClientId, cf.passwordClientSecret];
  const r = await call(`${emu.endpoints.uaa}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    body: form.toString(),
  });
  if (r.status !== 200) throw new Error(`uaa: ${r.status} ${r.text}`);
  return r.body;
}
