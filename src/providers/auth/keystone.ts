// Keystone v3 authentication for Heat: password or application-credential auth, a cached token
// renewed before expiry (and once on a 401, through invalidate()), and the orchestration endpoint
// taken from the service catalog (type "orchestration", region, interface) or from the spec.
import type { HttpClient } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import type { HeatCredentials } from '../config.ts';
import type { HeatProviderSpec } from '../../api/v1alpha1/types.ts';
import { ProviderError } from '../types.ts';
import { isRecord, str } from '../common.ts';

export interface KeystoneToken {
  token: string;
  expiresAt: number;
  projectId?: string;
  /** Orchestration base URL, ending in /v1/{project_id}. */
  endpoint: string;
}

type HeatSpec = Omit<HeatProviderSpec, 'credentialsSecretRef'>;

/** Renew when less than this much lifetime is left. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** Build the POST /v3/auth/tokens body. Pure (tested). */
export function keystoneAuthBody(spec: HeatSpec, creds: HeatCredentials): Record<string, unknown> {
  if (creds.applicationCredentialSecret && (creds.applicationCredentialId || creds.applicationCredentialName)) {
    const ac: Record<string, unknown> = { secret: creds.applicationCredentialSecret };
    if (creds.applicationCredentialId) ac['id'] = creds.applicationCredentialId;
    else {
      ac['name'] = creds.applicationCredentialName;
      ac['user'] = { name: creds.username, domain: { name: spec.userDomainName ?? 'Default' } };
    }
    // Application credentials carry their own project scope: no "scope" block.
    return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
  }
  if (!creds.username || !creds.password) {
    throw new ProviderError('Unauthorized', 'heat credentials need username+password or an application credential', {
      code: 'MissingCredentials',
    });
  }
  const project: Record<string, unknown> = spec.projectId
    ? { id: spec.projectId }
    : { name: spec.projectName, domain: { name: spec.projectDomainName ?? 'Default' } };
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: creds.username, domain: { name: spec.userDomainName ?? 'Default' }, password: creds.password } },
      },
      ...(spec.projectId || spec.projectName ? { scope: { project } } : {}),
    },
  };
}

/** Pick the orchestration endpoint from a v3 catalog. Pure (tested). */
export function orchestrationFromCatalog(catalog: unknown, region: string | undefined, iface: string): string | undefined {
  if (!Array.isArray(catalog)) return undefined;
  for (const svc of catalog) {
    if (!isRecord(svc) || svc['type'] !== 'orchestration' || !Array.isArray(svc['endpoints'])) continue;
    for (const ep of svc['endpoints']) {
      if (!isRecord(ep)) continue;
      if (ep['interface'] !== iface) continue;
      if (region && ep['region_id'] !== region && ep['region'] !== region) continue;
      const url = str(ep['url']);
      if (url) return url;
    }
  }
  return undefined;
}

/** The explicit endpoint with {project_id} placeholders filled, ending in /v1/{project}. Pure (tested). */
export function resolveHeatEndpoint(endpoint: string, projectId: string | undefined): string {
  let e = endpoint.replace(/\/+$/, '');
  if (projectId) {
    e = e.replace(/%\((?:tenant_id|project_id)\)s|\$\((?:tenant_id|project_id)\)s|\{(?:tenant_id|project_id)\}/g, projectId);
    if (/\/v1$/.test(e)) e = `${e}/${projectId}`;
  }
  return e;
}

export class KeystoneAuth {
  readonly #http: HttpClient;
  readonly #spec: HeatSpec;
  readonly #creds: HeatCredentials;
  readonly #now: () => number;
  #cached: KeystoneToken | undefined;
  #inflight: Promise<KeystoneToken> | undefined;

  constructor(http: HttpClient, spec: HeatSpec, creds: HeatCredentials, now: () => number = Date.now) {
    this.#http = http;
    this.#spec = spec;
    this.#creds = creds;
    this.#now = now;
  }

  /** A valid token (cached, renewed RENEW_BEFORE_MS before expiry; one request in flight at a time). */
  async token(signal?: AbortSignal): Promise<KeystoneToken> {
    const c = this.#cached;
    if (c && c.expiresAt - this.#now() > RENEW_BEFORE_MS) return c;
    this.#inflight ??= this.#issue(signal).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #issue(signal?: AbortSignal): Promise<KeystoneToken> {
    const base = this.#spec.authUrl.replace(/\/+$/, '');
    const url = /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
    const res = await this.#http.send({
      operation: 'keystone.auth',
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(keystoneAuthBody(this.#spec, this.#creds)),
      idempotent: true, // issuing a token has no side effect worth guarding
      signal,
    });
    const subject = res.headers['x-subject-token'];
    const body = parseJson(res.text);
    const tok = isRecord(body) && isRecord(body['token']) ? body['token'] : undefined;
    if (!subject || !tok) throw new ProviderError('Transient', 'keystone returned no token', { code: 'NoToken' });
    const expiresAt = Date.parse(str(tok['expires_at']) ?? '') || this.#now() + 3600_000;
    const projectId = isRecord(tok['project']) ? str(tok['project']['id']) : undefined;
    let endpoint: string | undefined;
    if (this.#spec.endpoint) endpoint = resolveHeatEndpoint(this.#spec.endpoint, projectId ?? this.#spec.projectId);
    else {
      const fromCatalog = orchestrationFromCatalog(tok['catalog'], this.#spec.region, this.#spec.interface ?? 'public');
      if (!fromCatalog) {
        throw new ProviderError(
          'Invalid',
          `no orchestration endpoint in the Keystone catalog (region ${this.#spec.region ?? 'any'}, interface ${this.#spec.interface ?? 'public'})`,
          { code: 'NoEndpoint', field: 'spec.heat.endpoint' },
        );
      }
      endpoint = resolveHeatEndpoint(fromCatalog, projectId);
    }
    const t: KeystoneToken = { token: subject, expiresAt, endpoint, ...(projectId ? { projectId } : {}) };
    this.#cached = t;
    return t;
  }
}
