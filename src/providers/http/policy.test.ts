// The shared status fallback, message cutting, credential redaction, TLS roots and the plain-http rule.
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { faultMessage, providerHttpError, statusKind } from './status.ts';
import { redactError, redactText } from './redact.ts';
import { tlsConnectOptions } from './tls.ts';
import { heatError } from '../heat/errors.ts';
import { rfsError } from '../rfs/errors.ts';
import { rosError } from '../ros/errors.ts';
import { cfError } from '../cloudfoundry/errors.ts';
import { validateProviderEndpoints } from '../endpoint-policy.ts';
import { ProviderError } from '../types.ts';
import type { ResolvedProviderConfig } from '../config.ts';

describe('one status ladder', () => {
  it('maps statuses without a provider table', () => {
    expect([401, 403, 404, 409, 429, 408, 500, 503, 400, 422, 302].map(statusKind)).toEqual([
      'Unauthorized', 'Unauthorized', 'NotFound', 'Conflict', 'Throttled', 'Transient', 'Transient', 'Transient', 'Invalid', 'Invalid', 'Transient',
    ]);
  });
  it('a provider table wins over the status', () => {
    const e = providerHttpError({ status: 400 }, { code: 'X', message: 'busy' }, () => ({ kind: 'Conflict' }));
    expect(e).toMatchObject({ kind: 'Conflict', code: 'X', httpStatus: 400, message: 'busy' });
  });
  it('never copies a raw body: an HTML page becomes a status line', () => {
    const html = `<html><body>${'x'.repeat(10_000)} secret stack trace</body></html>`;
    for (const f of [heatError, rfsError, rosError, cfError]) {
      const e = f({ status: 502, text: html, headers: { 'content-type': 'text/html; charset=utf-8' } });
      expect(e.kind).toBe('Transient');
      expect(e.message).toBe('HTTP 502 (text/html body not shown)');
    }
    expect(faultMessage({}, 418)).toBe('HTTP 418');
  });
  it('keeps the message field, cut to 500 characters', () => {
    expect(rosError({ status: 400, text: JSON.stringify({ Code: 'InvalidSchema', Message: 'm'.repeat(9000), HostId: 'h' }) }).message.length).toBe(500);
  });
  it('ROS legacy 404 NotSupported is Invalid (terminal), not NotFound', () => {
    expect(rosError({ status: 404, text: JSON.stringify({ Code: 'NotSupported', Message: 'The operation is not supported.' }) })).toMatchObject({ kind: 'Invalid', code: 'NotSupported' });
    expect(rosError({ status: 404, text: JSON.stringify({ Code: 'StackNotFound', Message: 'gone' }) }).kind).toBe('NotFound');
  });
});

describe('credential redaction', () => {
  it('removes every value and its URL-encoded form, longest first', () => {
    const out = redactText('key=AK123456 sig=a%2Fb%2Bc%2F raw=a/b+c/ pw=AK1234567', ['AK123456', 'AK1234567', 'a/b+c/']);
    expect(out).toBe('key=[redacted] sig=[redacted] raw=[redacted] pw=[redacted]');
    expect(redactText('a b c', ['a'])).toBe('a b c'); // too short to be a credential
  });
  it('rebuilds the error only when something was removed', () => {
    const e = new ProviderError('Invalid', 'password hunter22 rejected', { code: 'C', httpStatus: 400, field: 'f' });
    expect(redactError(e, ['hunter22'])).toMatchObject({ kind: 'Invalid', message: 'password [redacted] rejected', code: 'C', httpStatus: 400, field: 'f' });
    expect(redactError(e, ['absent'])).toBe(e);
  });
});

describe('TLS', () => {
  it('caBundle is added to the bundled roots, not instead of them', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const o = tlsConnectOptions({ caBundle: pem });
    expect(o.ca).toContain(pem);
    expect(o.ca).toEqual(expect.arrayContaining([...rootCertificates]));
    expect(o.ca).toHaveLength(rootCertificates.length + 1);
    expect(tlsConnectOptions(undefined)).toEqual({ rejectUnauthorized: true });
    expect(tlsConnectOptions({ insecureSkipVerify: true })).toEqual({ rejectUnauthorized: false });
  });
});

describe('plain http endpoints', () => {
  const heat = (authUrl: string, allowPlainHTTP?: boolean): ResolvedProviderConfig => ({
    type: 'heat',
    key: 'k',
    rateLimit: { qps: 1, burst: 1 },
    ...(allowPlainHTTP === undefined ? {} : { allowPlainHTTP }),
    heat: { authUrl },
    credentials: {},
  });
  it('are refused with Invalid naming spec.allowPlainHTTP unless allowed', () => {
    let err: unknown;
    try {
      validateProviderEndpoints(heat('http://keystone.example:5000/v3'));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ kind: 'Invalid', code: 'PlainHTTPRefused', field: 'spec.allowPlainHTTP' });
    expect((err as Error).message).toMatch(/spec\.heat\.authUrl.*allowPlainHTTP: true/);
    expect(() => validateProviderEndpoints(heat('http://keystone.example:5000/v3', true))).not.toThrow();
    expect(() => validateProviderEndpoints(heat('https://keystone.example/v3'))).not.toThrow();
    expect(() => validateProviderEndpoints(heat('ftp://x/'))).toThrow(/https/);
  });
});
