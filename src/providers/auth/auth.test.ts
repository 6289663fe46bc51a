import { describe, expect, it } from 'vitest';
import { keystoneAuthBody, orchestrationFromCatalog, resolveHeatEndpoint } from './keystone.ts';
import { uaaTokenRequest } from './uaa.ts';

const spec = { authUrl: 'http://k/v3', projectName: 'demo', userDomainName: 'Default' };

describe('keystone', () => {
  it('password auth scoped to a project by name', () => {
    const b = keystoneAuthBody(spec, { username: 'u', password: 'p' }) as { auth: { identity: { methods: string[] }; scope: unknown } };
    expect(b.auth.identity.methods).toEqual(['password']);
    expect(b.auth.scope).toEqual({ project: { name: 'demo', domain: { name: 'Default' } } });
  });
  it('application credential by id: no scope', () => {
    const b = keystoneAuthBody(spec, { applicationCredentialId: 'id1', applicationCredentialSecret: 's' });
    expect(b).toEqual({ auth: { identity: { methods: ['application_credential'], application_credential: { id: 'id1', secret: 's' } } } });
  });
  it('missing credentials are Unauthorized', () => {
    expect(() => keystoneAuthBody(spec, {})).toThrow(/username\+password/);
  });
  it('catalog lookup by type, interface and region', () => {
    const catalog = [
      { type: 'identity', endpoints: [{ interface: 'public', region_id: 'R1', url: 'http://k' }] },
      {
        type: 'orchestration',
        endpoints: [
          { interface: 'internal', region_id: 'R1', url: 'http://int/v1/p' },
          { interface: 'public', region_id: 'R2', url: 'http://r2/v1/p' },
          { interface: 'public', region_id: 'R1', url: 'http://pub/v1/p' },
        ],
      },
    ];
    expect(orchestrationFromCatalog(catalog, 'R1', 'public')).toBe('http://pub/v1/p');
    expect(orchestrationFromCatalog(catalog, undefined, 'internal')).toBe('http://int/v1/p');
    expect(orchestrationFromCatalog(catalog, 'R3', 'public')).toBeUndefined();
  });
  it('explicit endpoints get the project id', () => {
    expect(resolveHeatEndpoint('http://h:8004/v1/%(tenant_id)s', 'p1')).toBe('http://h:8004/v1/p1');
    expect(resolveHeatEndpoint('http://h:8004/v1/', 'p1')).toBe('http://h:8004/v1/p1');
    expect(resolveHeatEndpoint('http://h:8004/v1/p0', 'p1')).toBe('http://h:8004/v1/p0');
  });
});

describe('uaa', () => {
  it('client credentials with Basic client auth', () => {
    const r = uaaTokenRequest({ clientId: 'c', clientSecret: 's' });
    expect(r.form.get('grant_type')).toBe('client_credentials');
    expect(Buffer.from(r.basic, 'base64').toString()).toBe('c:s');
  });
  it('password grant uses the cf client by default; refresh grant when a refresh token exists', () => {
    const r = uaaTokenRequest({ username: 'u', password: 'p' });
    expect(r.form.get('grant_type')).toBe('password');
    expect(Buffer.from(r.basic, 'base64').toString()).toBe('cf:');
    expect(uaaTokenRequest({ username: 'u', password: 'p' }, 'rt').form.get('grant_type')).toBe('refresh_token');
  });
});
