// Signer vectors. Sources:
//  - Huawei SDK-HMAC-SHA256: huaweicloud-sdk-go-v3 core/auth/signer/signer_test.go (TestSigner_Sign:
//    AK "AccessKey", SK "SecretKey", X-Sdk-Date 20060102T150405Z; the POST body is Go's json.Encoder
//    output, hence the trailing newline).
//  - Alibaba RPC V1, ROA and ACS3: aliyun/darabonba-openapi-util python/tests/test_client.py
//    (test_get_rpc_signature, test_get_string_to_sign, test_get_roa_signature, test_get_authorization).
import { describe, expect, it } from 'vitest';
import { huaweiCanonicalQuery, sdkDate, signHuawei } from './huawei-signer.ts';
import { acsDate, roaStringToSign, signAcs3, signRoa, signRpcV1, rpcStringToSign } from './acs-signer.ts';
import { percentEncode } from './encoding.ts';

describe('SDK-HMAC-SHA256 (huaweicloud-sdk-go-v3 vectors)', () => {
  it('GET with a query and an underscore header (not signed)', () => {
    const s = signHuawei({
      method: 'GET',
      path: '/path',
      query: [['limit', '1']],
      headers: { 'X-Sdk-Date': '20060102T150405Z', TEST_UNDERSCORE: 'TEST_VALUE' },
      body: '',
      accessKeyId: 'AccessKey',
      secretKey: 'SecretKey',
    });
    expect(s.authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
    );
  });
  it('POST with a JSON body; Content-Type is not signed', () => {
    const s = signHuawei({
      method: 'POST',
      path: '/path',
      query: [['key', 'value']],
      headers: { 'X-Sdk-Date': '20060102T150405Z', TEST_UNDERSCORE: 'TEST_VALUE', 'Content-Type': 'application/json' },
      body: '{"Name":"test","Id":1}\n',
      accessKeyId: 'AccessKey',
      secretKey: 'SecretKey',
    });
    expect(s.authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59',
    );
    expect(s.canonicalRequest.split('\n')[1]).toBe('/path/');
  });
  it('canonical query: sorted keys and values, RFC 3986 escaping', () => {
    expect(
      huaweiCanonicalQuery([
        ['limit', '1'],
        ['enable', 'true'],
        ['test', '一 (&=?!#%.*)'],
        ['path', '/tmp/123'],
        ['multi', '3'],
        ['multi', '1'],
        ['multi', '2'],
      ]),
    ).toBe('enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29');
  });
  it('refuses to sign without X-Sdk-Date; formats the date', () => {
    expect(() => signHuawei({ method: 'GET', path: '/', query: [], headers: {}, body: '', accessKeyId: 'a', secretKey: 'b' })).toThrow();
    expect(sdkDate(new Date('2006-01-02T15:04:05.123Z'))).toBe('20060102T150405Z');
  });
});

describe('Alibaba signatures (darabonba-openapi-util vectors)', () => {
  it('RPC V1 HMAC-SHA1', () => {
    expect(signRpcV1('GET', { query: 'test', body: 'test' }, 'secret')).toBe('XlUyV4sXjOuX5FnjUz9IF9tm5rU=');
    expect(rpcStringToSign('GET', { b: 'x y', a: '*' })).toBe('GET&%2F&a%3D%252A%26b%3Dx%2520y');
  });
  it('ROA string to sign and signature', () => {
    expect(roaStringToSign('GET', '', {}, {})).toBe('GET\n\n\n\n\n');
    expect(signRoa('GET\n\n\n\n\n', 'secret')).toBe('XGXDWA78AEvx/wmfxKoVCq/afWw=');
    expect(
      roaStringToSign(
        'GET',
        'Pathname',
        { 'x-acs-meta': 'user', accept: 'application/json', 'content-md5': 'md5', 'content-type': 'application/json', date: 'date' },
        { ccp: 'ok', test: 'tests', test1: '' },
      ),
    ).toBe('GET\napplication/json\nmd5\napplication/json\ndate\nx-acs-meta:user\nPathname?ccp=ok&test=tests&test1');
  });
  it('ACS3-HMAC-SHA256', () => {
    const s = signAcs3({
      method: 'GET',
      path: '',
      query: { test: 'ok', empty: '' },
      headers: { 'x-acs-test': 'http', 'x-acs-TEST': 'https' },
      hashedPayload: '55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23',
      accessKeyId: 'acesskey',
      secret: 'secret',
    });
    expect(s.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=da772425f29289d3460d5fc961455d40c5e8c6afd0888b78a910c991e6a14846',
    );
  });
  it('percent-encoding and dates', () => {
    expect(percentEncode(" ~/*-+!'()")).toBe('%20~%2F%2A-%2B%21%27%28%29');
    expect(acsDate(new Date('2023-10-26T10:22:32.456Z'))).toBe('2023-10-26T10:22:32Z');
  });
});
