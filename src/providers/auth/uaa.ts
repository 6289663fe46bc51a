// UAA OAuth2 tokens for Cloud Foundry: client_credentials (client id + secret) or the password
// grant (username + password with client "cf" and an empty secret unless given), refreshed with the
// refresh_token grant when one was issued, renewed before expiry and once on a 401.
import type { HttpClient } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import type { CloudFoundryCredentials } from '../config.ts';
import { ProviderError } from '../types.ts';
import { isRecord, str } from '../common.ts';

const RENEW_BEFORE_MS = 60_000;

/** The form body and Basic client credentials of a token request. Pure (tested). */
export function uaaTokenRequest(
  creds: CloudFoundryCredentials,
  refreshToken?: string,
): { form: URLSearchParams; basic: string } {
  const passwordGrant = Boolean(creds.username && creds.password);
  const clientId = creds.clientId ?? (passwordGrant ? 'cf' : '');
  const clientSecret = creds.clientSecret ?? '';
  if (!clientId) throw new ProviderError('Unauthorized', 'cloudfoundry credentials need clientId/clientSecret or username/password', { code: 'MissingCredentials' });
  const form = new URLSearchParams();
  if (refreshToken) {
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', refreshToken);
  } else if (passwordGrant) {
    form.set('grant_type', 'password');
    form.set('username', creds.username ?? '');
    form.set('password', creds.password ?? '');
  } else {
    form.set('grant_type', 'client_credentials');
  }
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  return { form, basic };
}

export class UaaAuth {
  readonly #http: HttpClient;
  readonly #creds: CloudFoundryCredentials;
  readonly #uaaUrl: () => Promise<string>;
  readonly #now: () => number;
  #token: { access: string; refresh?: string; expiresAt: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(http: HttpClient, creds: CloudFoundryCredentials, uaaUrl: () => Promise<string>, now: () => number = Date.now) {
    this.#http = http;
    this.#creds = creds;
    this.#uaaUrl = uaaUrl;
    this.#now = now;
  }

  async bearer(signal?: AbortSignal): Promise<string> {
    const t = this.#token;
    if (t && t.expiresAt - this.#now() > RENEW_BEFORE_MS) return `bearer ${t.access}`;
    this.#inflight ??= this.#issue(signal).finally(() => {
      this.#inflight = undefined;
    });
    return `bearer ${await this.#inflight}`;
  }

  /** Drop the access token (a 401 came back); the refresh token, if any, is tried first. */
  invalidate(): void {
    if (this.#token) this.#token = { ...this.#token, expiresAt: 0 };
  }

  async #issue(signal?: AbortSignal): Promise<string> {
    const refresh = this.#token?.refresh;
    if (refresh) {
      try {
        return await this.#request(refresh, signal);
      } catch (e) {
        if (!(e instanceof ProviderError) || e.kind !== 'Unauthorized') throw e;
        this.#token = undefined; // refresh token rejected: fall back to the configured grant
      }
    }
    return this.#request(undefined, signal);
  }

  async #request(refresh: string | undefined, signal?: AbortSignal): Promise<string> {
    const { form, basic } = uaaTokenRequest(this.#creds, refresh);
    const base = (await this.#uaaUrl()).replace(/\/+$/, '');
    const res = await this.#http.send({
      operation: 'uaa.token',
      method: 'POST',
      url: `${base}/oauth/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
      body: form.toString(),
      idempotent: true,
      signal,
    });
    const body = parseJson(res.text);
    const access = isRecord(body) ? str(body['access_token']) : undefined;
    if (!isRecord(body) || !access) throw new ProviderError('Transient', 'UAA returned no access_token', { code: 'NoToken' });
    const expiresIn = Number(body['expires_in']);
    const refreshToken = str(body['refresh_token']) ?? refresh;
    this.#token = {
      access,
      expiresAt: this.#now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 600_000),
      ...(refreshToken ? { refresh: refreshToken } : {}),
    };
    return access;
  }
}
