import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAcs3, signHuawei, signRoa, signRpcV1 } from '../../integration/emulator/helpers.ts';
import { Control, TokenBucket } from '../../../src/emulator/control.ts';
import { FakeClock } from '../../../src/emulator/engine/clock.ts';
import { flatList, rosStatus } from '../../../src/emulator/frontends/ros.ts';
import { huaweiCanonicalUri, rfc3986, verifyAcs3, verifyHuaweiSdkHmac, verifyRoa, verifyRpcV1 } from '../../../src/emulator/signing.ts';

const lookup = (ak: string): string | undefined => (ak === 'AK' ? 'SECRET' : undefined);

function headersOf(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('signature verifiers', () => {
  it('RPC v1 matches Alibaba’s published example', () => {
    const params: Record<string, string> = {
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
      Signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
    };
    expect(verifyRpcV1('GET', params, (ak) => (ak === 'testid' ? 'testsecret' : undefined))).toEqual({ ok: true, accessKeyId: 'testid' });
    expect(verifyRpcV1('GET', { ...params, Format: 'JSON' }, () => 'testsecret')).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyRpcV1('GET', params, () => undefined)).toMatchObject({ ok: false, reason: 'unknown-key' });
  });

  it('RPC v1 round trip with the test signer (space, star, tilde, unicode)', () => {
    const qs = signRpcV1('POST', { Action: 'CreateStack', StackName: 'a b*c~d', TemplateBody: '{"x":"é"}' }, 'AK', 'SECRET');
    const params = Object.fromEntries(new URLSearchParams(qs));
    expect(verifyRpcV1('POST', params, lookup).ok).toBe(true);
    expect(verifyRpcV1('GET', params, lookup).ok).toBe(false);
  });

  it('SDK-HMAC-SHA256 round trip; tampering is detected', () => {
    const url = 'http://127.0.0.1:9/rfs/v1/p1/stacks/my-stack/metadata?stack_id=abc&b=2&a=1';
    const h = signHuawei('GET', url, '', 'AK', 'SECRET');
    const req = { method: 'GET', rawPath: '/rfs/v1/p1/stacks/my-stack/metadata', rawQuery: 'stack_id=abc&b=2&a=1', headers: headersOf(h), body: Buffer.alloc(0) };
    expect(verifyHuaweiSdkHmac(req, lookup)).toEqual({ ok: true, accessKeyId: 'AK' });
    expect(verifyHuaweiSdkHmac({ ...req, rawQuery: 'stack_id=abd&b=2&a=1' }, lookup).ok).toBe(false);
    expect(verifyHuaweiSdkHmac({ ...req, method: 'DELETE' }, lookup).ok).toBe(false);
    expect(verifyHuaweiSdkHmac({ ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace('AK', 'XX') } }, lookup)).toMatchObject({ reason: 'unknown-key' });
    const body = JSON.stringify({ stack_name: 'x' });
    const hp = signHuawei('POST', 'http://h/rfs/v1/p/stacks', body, 'AK', 'SECRET');
    const post = { method: 'POST', rawPath: '/rfs/v1/p/stacks', rawQuery: '', headers: headersOf(hp), body: Buffer.from(body) };
    expect(verifyHuaweiSdkHmac(post, lookup).ok).toBe(true);
    expect(verifyHuaweiSdkHmac({ ...post, body: Buffer.from(`${body} `) }, lookup).ok).toBe(false);
    expect(huaweiCanonicalUri('/v1/a%20b/stacks')).toBe('/v1/a%20b/stacks/');
  });

  it('SDK-HMAC-SHA256 honours X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD', () => {
    const h = signHuawei('POST', 'http://h/rfs/v1/p/stacks', 'ignored', 'AK', 'SECRET', { 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(verifyHuaweiSdkHmac({ method: 'POST', rawPath: '/rfs/v1/p/stacks', rawQuery: '', headers: headersOf(h), body: Buffer.from('anything') }, lookup).ok).toBe(true);
  });

  it('ACS3-HMAC-SHA256 round trip; body hash is checked', () => {
    const { url, init } = signAcs3('http://127.0.0.1:1/ros/', 'CreateStack', { RegionId: 'r', StackName: 's', 'Parameters.1.ParameterKey': 'K' }, { TemplateBody: '{"a": 1}' }, 'AK', 'SECRET');
    const u = new URL(url);
    const headers = headersOf(init.headers as Record<string, string>);
    const req = { method: 'POST', rawPath: u.pathname, rawQuery: u.search.slice(1), headers, body: Buffer.from(init.body as string) };
    expect(verifyAcs3(req, lookup)).toEqual({ ok: true, accessKeyId: 'AK' });
    expect(verifyAcs3({ ...req, body: Buffer.from('TemplateBody=x') }, lookup)).toMatchObject({ ok: false, reason: 'payload' });
    expect(verifyAcs3({ ...req, rawQuery: `${req.rawQuery}&X=1` }, lookup)).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('ROA (legacy REST) round trip', () => {
    const body = '{"Name":"x"}';
    const h = signRoa('POST', 'http://h/ros-legacy/stacks?RegionId=r', body, 'AK', 'SECRET', 'r');
    const req = { method: 'POST', rawPath: '/ros-legacy/stacks', rawQuery: 'RegionId=r', headers: headersOf(h), body: Buffer.from(body) };
    expect(verifyRoa(req, lookup).ok).toBe(true);
    expect(verifyRoa({ ...req, body: Buffer.from('{"Name":"y"}') }, lookup)).toMatchObject({ ok: false, reason: 'payload' });
    const forged = createHmac('sha1', 'other').update('x').digest('base64');
    expect(verifyRoa({ ...req, headers: { ...req.headers, authorization: `acs AK:${forged}` } }, lookup).ok).toBe(false);
  });

  it('rfc3986 encoding', () => {
    expect(rfc3986("a b*c~d!'()")).toBe('a%20b%2Ac~d%21%27%28%29');
  });
});

describe('control', () => {
  it('token bucket refills at the configured rate', () => {
    const b = new TokenBucket({ requestsPerSecond: 2, burst: 2 }, 0);
    expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBe(500);
    expect(b.take(500)).toBe(0);
    expect(b.take(500)).toBe(500);
  });

  it('per-service limits, keystone unlimited unless configured, faults with a budget', () => {
    const clock = new FakeClock();
    const c = new Control(clock, { rateLimit: { requestsPerSecond: 1, burst: 1, services: { rfs: { requestsPerSecond: 10, burst: 3 } } } });
    expect(c.takeToken('heat').waitMs).toBe(0);
    expect(c.takeToken('heat').waitMs).toBe(1000);
    for (let i = 0; i < 3; i++) expect(c.takeToken('rfs').waitMs).toBe(0);
    expect(c.takeToken('rfs').waitMs).toBe(100);
    for (let i = 0; i < 5; i++) expect(c.takeToken('keystone').waitMs).toBe(0);
    clock.advance(1000);
    expect(c.takeToken('heat').waitMs).toBe(0);

    c.addFault({ service: 'heat', operation: 'create', kind: 'error', status: 500, times: 2 });
    expect(c.matchFault('heat', 'get')).toBeUndefined();
    expect(c.matchFault('rfs', 'create')).toBeUndefined();
    expect(c.matchFault('heat', 'create')?.status).toBe(500);
    expect(c.matchFault('heat', 'create')?.status).toBe(500);
    expect(c.matchFault('heat', 'create')).toBeUndefined();
    expect(c.faults()).toEqual([]);
  });
});

describe('ros helpers', () => {
  it('flattened lists', () => {
    expect(flatList({ 'Parameters.2.ParameterKey': 'B', 'Parameters.1.ParameterKey': 'A', 'Parameters.1.ParameterValue': '1', 'Parameters.10.ParameterKey': 'C', Other: 'x' }, 'Parameters')).toEqual([
      { ParameterKey: 'A', ParameterValue: '1' },
      { ParameterKey: 'B' },
      { ParameterKey: 'C' },
    ]);
    expect(flatList({ 'Status.1': 'CREATE_COMPLETE', 'Status.2': 'UPDATE_FAILED' }, 'Status')).toEqual([{ '': 'CREATE_COMPLETE' }, { '': 'UPDATE_FAILED' }]);
  });

  it('status names', () => {
    expect(rosStatus({ action: 'ROLLBACK', status: 'IN_PROGRESS', rollbackOf: 'CREATE' })).toBe('CREATE_ROLLBACK_IN_PROGRESS');
    expect(rosStatus({ action: 'ROLLBACK', status: 'COMPLETE', rollbackOf: 'UPDATE' })).toBe('ROLLBACK_COMPLETE');
    expect(rosStatus({ action: 'UPDATE', status: 'FAILED' })).toBe('UPDATE_FAILED');
  });
});
