// Entry point of the provider layer: the provider modules, building the adapter for a resolved config, and the
// registry that shares one client (one keep-alive pool, one token bucket) between every Stack that
// uses the same provider object, replacing (and closing) it when the config or credentials change.
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { StackProvider } from '../api/v1alpha1/types.ts';
import { canonicalJson } from '../lib/canonical-json.ts';
import { type ResolvedProviderConfig, providerBlock, providerIdentity } from './config.ts';
import { validateProviderEndpoints } from './endpoint-policy.ts';
import { HttpClient, type HttpClientOptions } from './http/client.ts';
import { TokenBucket } from './http/token-bucket.ts';
import type { ProviderModule, ProviderModules } from './module.ts';
import type { ProviderType, StackProviderClient } from './types.ts';
import { heatProvider } from './heat/provider.ts';
import { rfsProvider } from './rfs/provider.ts';
import { rosProvider } from './ros/provider.ts';
import { cloudFoundryProvider } from './cloudfoundry/provider.ts';

export interface ProviderDeps {
  logger: Logger;
  /** An undici dispatcher to use instead of the client's own Agent (tests, egress proxies). Not closed by the client. */
  fetchDispatcher?: Dispatcher;
  /** Overrides of the HTTP policy (tests; maxBodyBytes and proxy are the operator's flags). */
  http?: Pick<
    HttpClientOptions,
    'maxAttempts' | 'maxRetryWaitMs' | 'maxQueueWaitMs' | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'requestTimeoutMs' | 'maxBodyBytes' | 'proxy'
  >;
}

/** Every provider type. Adding one: a folder with its ProviderModule, a line here, the API schema. */
export const PROVIDERS: ProviderModules = {
  heat: heatProvider,
  rfs: rfsProvider,
  ros: rosProvider,
  cloudfoundry: cloudFoundryProvider,
};

export function providerModule(type: ProviderType): ProviderModule {
  return PROVIDERS[type];
}

/** Throws ProviderError Invalid (shown as Stalled) when the config cannot be used as is. */
export function createProviderClient(config: ResolvedProviderConfig, deps: ProviderDeps): StackProviderClient {
  validateProviderEndpoints(config);
  const logger = deps.logger.child({ provider: config.type, providerKey: config.key });
  const module = providerModule(config.type);
  const http = new HttpClient({
    provider: config.type,
    logger,
    bucket: new TokenBucket(config.rateLimit.qps, config.rateLimit.burst),
    classify: (res) => module.classify(res),
    tls: config.tls,
    dispatcher: deps.fetchDispatcher,
    secrets: Object.values(config.credentials).filter((v): v is string => typeof v === 'string'),
    allowPlainHTTP: config.allowPlainHTTP === true,
    ...deps.http,
  });
  return module.createClient(config, http);
}

/**
 * A provider object plus the decoded data of its credentials Secret, as an adapter config; or a
 * message saying what the Secret lacks.
 */
export function resolveConfig(provider: StackProvider, secretData: Record<string, string>): { ok: ResolvedProviderConfig } | { error: string } {
  const block = providerBlock(provider.spec);
  if (!block) return { error: `${providerIdentity(provider)} sets no provider block` };
  const module = providerModule(block.type);
  const credentials = module.credentials(secretData);
  if ('error' in credentials) return credentials;
  const { credentialsSecretRef: _ref, ...settings } = block.value;
  const spec = provider.spec;
  const config = {
    key: `${providerIdentity(provider)}@${provider.metadata.generation ?? 0}/${provider.metadata.uid ?? ''}`,
    ...(spec.tls ? { tls: spec.tls } : {}),
    ...(spec.allowPlainHTTP === true ? { allowPlainHTTP: true } : {}),
    rateLimit: { qps: spec.rateLimit?.qps ?? 10, burst: spec.rateLimit?.burst ?? 20 },
    type: block.type,
    [module.block]: settings,
    credentials: credentials.ok,
  };
  return { ok: config as unknown as ResolvedProviderConfig };
}

/** Fingerprint of everything that shapes a client (spec, TLS, rate limit, credentials), never logged. */
export function configFingerprint(config: ResolvedProviderConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * One client per provider object. `key` (kind/namespace/name@generation) identifies the object;
 * the part before "@" is its identity, so a new generation or changed credentials (same key,
 * different fingerprint) replace the client and close the old one.
 */
export class ProviderRegistry {
  readonly #deps: ProviderDeps;
  readonly #factory: (config: ResolvedProviderConfig, deps: ProviderDeps) => StackProviderClient;
  readonly #byIdentity = new Map<string, { fingerprint: string; key: string; client: StackProviderClient }>();

  constructor(deps: ProviderDeps, factory = createProviderClient) {
    this.#deps = deps;
    this.#factory = factory;
  }

  static identity(key: string): string {
    const at = key.lastIndexOf('@');
    return at < 0 ? key : key.slice(0, at);
  }

  /** The shared client for this config, created on first use, replaced when the config changed. */
  get(config: ResolvedProviderConfig): StackProviderClient {
    const id = ProviderRegistry.identity(config.key);
    const fingerprint = configFingerprint(config);
    const cur = this.#byIdentity.get(id);
    if (cur && cur.fingerprint === fingerprint) return cur.client;
    if (cur) this.#closeQuietly(cur.client, cur.key);
    const client = this.#factory(config, this.#deps);
    this.#byIdentity.set(id, { fingerprint, key: config.key, client });
    return client;
  }

  /** Drop the client of a deleted provider object (key with or without @generation). */
  async remove(key: string): Promise<void> {
    const id = ProviderRegistry.identity(key);
    const cur = this.#byIdentity.get(id);
    if (!cur) return;
    this.#byIdentity.delete(id);
    await cur.client.close();
  }

  get size(): number {
    return this.#byIdentity.size;
  }

  async close(): Promise<void> {
    const all = [...this.#byIdentity.values()];
    this.#byIdentity.clear();
    await Promise.allSettled(all.map((c) => c.client.close()));
  }

  #closeQuietly(client: StackProviderClient, key: string): void {
    // In-flight calls on the old client finish first: undici's close() waits for them.
    client.close().catch((e: unknown) => this.#deps.logger.warn({ err: e, providerKey: key }, 'closing replaced provider client failed'));
  }
}

export type { StackProviderClient } from './types.ts';
export { validateProviderEndpoints } from './endpoint-policy.ts';
export { DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_MS } from './http/client.ts';
export { ProviderError, isProviderError } from './types.ts';
