// Keystone v3 (identity): password and application_credential authentication, X-Subject-Token,
// a catalog whose `orchestration` endpoint is the emulated Heat, token validation and revocation.
import { randomBytes } from 'node:crypto';
import type { EmulatorContext } from '../context.ts';
import { empty, header, isObj, json, parseJsonBody, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';

function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export function keystoneError(status: number, message: string): EmuResponse {
  const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };
  const headers: Record<string, string> = {};
  return json(status, { error: { code: status, title: titles[status] ?? 'Error', message } }, headers);
}

const UNAUTHORIZED = 'The request you have made requires authentication.';

export class KeystoneFrontEnd implements FrontEnd {
  readonly service = 'keystone' as const;
  readonly prefix = '/identity';
  readonly #ctx: EmulatorContext;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
  }

  operation(req: EmuRequest): string {
    if (req.path.startsWith('/v3/auth/tokens')) return req.method === 'POST' ? 'auth' : 'validate';
    return 'discovery';
  }

  throttled(_req: EmuRequest, retryAfter: number): EmuResponse {
    const r = keystoneError(429, 'Too many requests.');
    r.headers = { ...r.headers, 'retry-after': String(retryAfter) };
    return r;
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    return keystoneError(status, 'An unexpected error prevented the server from fulfilling your request.');
  }

  #versionDoc(base: string): Record<string, unknown> {
    return {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${base}/v3/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    };
  }

  handle(req: EmuRequest): EmuResponse {
    const p = req.path.replace(/\/+$/, '') || '/';
    if (p === '/' && req.method === 'GET') return json(300, { versions: { values: [this.#versionDoc(req.svc('keystone'))] } });
    if (p === '/v3' && req.method === 'GET') return json(200, { version: this.#versionDoc(req.svc('keystone')) });
    if (p === '/v3/auth/tokens') {
      if (req.method === 'POST') return this.#issue(req);
      if (req.method === 'GET' || req.method === 'HEAD') return this.#validate(req);
      if (req.method === 'DELETE') {
        const caller = this.#ctx.tokens.validate(header(req, 'x-auth-token'), 'keystone');
        if (!caller) return keystoneError(401, UNAUTHORIZED);
        const subject = header(req, 'x-subject-token') ?? '';
        return this.#ctx.tokens.revoke(subject) ? empty(204) : keystoneError(404, `Could not find token: ${subject}.`);
      }
      return keystoneError(405, 'Method not allowed');
    }
    return keystoneError(404, 'The resource could not be found.');
  }

  #validate(req: EmuRequest): EmuResponse {
    const caller = this.#ctx.tokens.validate(header(req, 'x-auth-token'), 'keystone');
    if (!caller) return keystoneError(401, UNAUTHORIZED);
    const subjectId = header(req, 'x-subject-token') ?? '';
    const subject = this.#ctx.tokens.validate(subjectId, 'keystone');
    if (!subject) return keystoneError(404, `Could not find token: ${subjectId}.`);
    return json(200, { token: this.#tokenBody(req, subject.methods ?? ['password'], subject.issuedAt, subject.expiresAt, subject.projectId !== undefined) }, { 'x-subject-token': subjectId });
  }

  #issue(req: EmuRequest): EmuResponse {
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch {
      return keystoneError(400, 'Malformed JSON in request body.');
    }
    const k = this.#ctx.credentials.keystone;
    const auth = isObj(body) && isObj(body.auth) ? body.auth : undefined;
    const identity = auth && isObj(auth.identity) ? auth.identity : undefined;
    const methods = identity && Array.isArray(identity.methods) ? identity.methods.map(String) : undefined;
    if (!identity || !methods || methods.length === 0) return keystoneError(400, "'identity' is a required property");
    let scoped = false;
    if (methods.includes('password')) {
      const pw = isObj(identity.password) ? identity.password : {};
      const user = isObj(pw.user) ? pw.user : {};
      const domain = isObj(user.domain) ? user.domain : {};
      const idOk = user.id === k.userId;
      const nameOk = user.name === k.username && (domain.name === k.userDomainName || domain.id === k.userDomainId);
      if (!(idOk || nameOk) || user.password !== k.password) return keystoneError(401, UNAUTHORIZED);
      const scope = isObj(auth?.scope) ? auth.scope : undefined;
      if (scope) {
        const project = isObj(scope.project) ? scope.project : {};
        const pdomain = isObj(project.domain) ? project.domain : {};
        const ok = project.id === k.projectId || (project.name === k.projectName && (pdomain.name === k.projectDomainName || pdomain.id === k.projectDomainId));
        if (!ok) return keystoneError(401, UNAUTHORIZED);
        scoped = true;
      }
    } else if (methods.includes('application_credential')) {
      const ac = isObj(identity.application_credential) ? identity.application_credential : {};
      const user = isObj(ac.user) ? ac.user : {};
      const byId = ac.id === k.applicationCredential.id;
      const byName = ac.name === k.applicationCredential.name && (user.id === k.userId || user.name === k.username);
      if (!(byId || byName) || ac.secret !== k.applicationCredential.secret) return keystoneError(401, UNAUTHORIZED);
      scoped = true;
    } else if (methods.includes('token')) {
      const t = isObj(identity.token) ? identity.token : {};
      const prior = this.#ctx.tokens.validate(typeof t.id === 'string' ? t.id : undefined, 'keystone');
      if (!prior) return keystoneError(401, UNAUTHORIZED);
      scoped = isObj(auth?.scope);
    } else {
      return keystoneError(401, UNAUTHORIZED);
    }
    const issued = this.#ctx.tokens.issue(
      { kind: 'keystone', subject: k.userId, methods, ...(scoped ? { projectId: k.projectId } : {}) },
      k.tokenTtlSeconds,
    );
    return json(201, { token: this.#tokenBody(req, methods, issued.issuedAt, issued.expiresAt, scoped) }, { 'x-subject-token': issued.token });
  }

  #tokenBody(req: EmuRequest, methods: string[], issuedAt: number, expiresAt: number, scoped: boolean): Record<string, unknown> {
    const k = this.#ctx.credentials.keystone;
    const heatUrl = `${req.svc('heat')}/v1/${k.projectId}`;
    const base = req.svc('keystone');
    const endpoint = (iface: string, url: string, n: number): Record<string, unknown> => ({
      id: `${n}${randomBytes(15).toString('hex')}`.slice(0, 32),
      interface: iface,
      region: k.region,
      region_id: k.region,
      url,
    });
    const body: Record<string, unknown> = {
      methods,
      user: { id: k.userId, name: k.username, domain: { id: k.userDomainId, name: k.userDomainName }, password_expires_at: null },
      audit_ids: [randomBytes(16).toString('base64url').slice(0, 22)],
      expires_at: keystoneTime(expiresAt),
      issued_at: keystoneTime(issuedAt),
    };
    if (methods.includes('application_credential')) {
      body.application_credential = { id: k.applicationCredential.id, name: k.applicationCredential.name, restricted: true };
    }
    if (scoped) {
      body.project = { id: k.projectId, name: k.projectName, domain: { id: k.projectDomainId, name: k.projectDomainName } };
      body.is_domain = false;
      body.roles = [
        { id: '9fe2ff9ee4384b1894a90878d3e92bab', name: 'member' },
        { id: '2b1fd2b8e0e64bb1b6c0a7a4f6c3c9d0', name: 'reader' },
      ];
      body.catalog = [
        {
          type: 'orchestration',
          name: 'heat',
          id: 'a8c3b1f0e9d84c7b8a6f5e4d3c2b1a09',
          endpoints: [endpoint('public', heatUrl, 1), endpoint('internal', heatUrl, 2), endpoint('admin', heatUrl, 3)],
        },
        {
          type: 'identity',
          name: 'keystone',
          id: 'b9d4c2a1f0e94d8c9b7a6f5e4d3c2b1a',
          endpoints: [endpoint('public', `${base}`, 4)],
        },
      ];
    }
    return body;
  }
}
