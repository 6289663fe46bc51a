// Entry point of the provider layer: build the adapter for a resolved provider config, and the
// registry that shares one client (one keep-alive pool, one token bucket) between every Stack that
// uses the same provider object, replacing (and closing) it when the config or credentials change.
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { ResolvedProviderConfig } from './config.ts';
import { HttpClient, type HttpClientOptions, type HttpResponse } from './http/client.ts';
import { TokenBucket } from './http/token-bucket.ts';
import type { ProviderError, StackProviderClient } from './types.ts';
import { HeatClient } from './heat/client.ts';
import { heatError } from './heat/errors.ts';
import { RfsClient } from './rfs/client.ts';
import { rfsError } from './rfs/errors.ts';
import { RosRpcClient } from './ros/rpc-client.ts';
import { RosLegacyClient } from './ros/legacy-client.ts';
import { rosError } from './ros/errors.ts';
import { CloudFoundryClient } from './cloudfoundry/client.ts';
import { cfError } from './cloudfoundry/errors.ts';
import { validateProviderEndpoints } from './endpoint-policy.ts';

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

const CLASSIFIERS: Record<ResolvedProviderConfig['type'], (res: HttpResponse) => ProviderError> = {
  heat: heatError,
  rfs: rfsError,
  ros: rosError,
  cloudfoundry: cfError,
};

/** Throws ProviderError Invalid (shown as Stalled) when the config cannot be used as is. */
export function createProviderClient(config: ResolvedProviderConfig, deps: ProviderDeps): StackProviderClient {
  validateProviderEndpoints(config);
  const logger = deps.logger.child({ provider: config.type, providerKey: config.key });
  const http = new HttpClient({
    provider: config.type,
    logger,
    bucket: new TokenBucket(config.rateLimit.qps, config.rateLimit.burst),
    classify: CLASSIFIERS[config.type],
    tls: config.tls,
    dispatcher: deps.fetchDispatcher,
    secrets: Object.values(config.credentials).filter((v): v is string => typeof v === 'string'),
    allowPlainHTTP: config.allowPlainHTTP === true,
    ...deps.http,
  });
  switch (config.type) {
    case 'heat':
      return new HeatClient(config, http);
    case 'rfs':
      return new RfsClient(config, http);
    case 'ros':
      return config.ros.apiVersion === '2015-09-01' ? new RosLegacyClient(config, http) : new RosRpcClient(config, http);
    case 'cloudfoundry':
      return new CloudFoundryClient(config, http);
  }
}

/** Fingerprint of everything that shapes a client (spec, TLS, rate limit, credentials), never logged. */
export function configFingerprint(config: ResolvedProviderConfig): string {
  return createHash('sha256').update(stableJson(config)).digest('hex');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
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
