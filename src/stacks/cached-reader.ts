// Reads Secrets and ConfigMaps for resolution, with a short cache, so 1,000 Stacks sharing one Secret
// read it once per TTL. Secret values are decoded here, so nothing downstream sees base64.
import { CONFIG_MAPS, SECRETS } from '../api/v1alpha1/resources.ts';
import { isNotFound } from '../runtime/errors.ts';
import type { KubeClient, KubeObject } from '../runtime/kube-client.ts';
import type { KeyedData, ResolveReader } from './resolve.ts';

export class CachedReader implements ResolveReader {
  readonly #client: KubeClient;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; value: Promise<KeyedData | undefined> }>();

  constructor(client: KubeClient, ttlMs: number, now: () => number = Date.now) {
    this.#client = client;
    this.#ttl = ttlMs;
    this.#now = now;
  }

  secret(namespace: string, name: string): Promise<KeyedData | undefined> {
    return this.#get('s', namespace, name);
  }

  configMap(namespace: string, name: string): Promise<KeyedData | undefined> {
    return this.#get('c', namespace, name);
  }

  #get(kind: 's' | 'c', namespace: string, name: string): Promise<KeyedData | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttl) return hit.value;
    const value = this.#fetch(kind, namespace, name);
    this.#cache.set(key, { at: now, value });
    value.catch(() => this.#cache.delete(key));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }

  async #fetch(kind: 's' | 'c', namespace: string, name: string): Promise<KeyedData | undefined> {
    try {
      const obj = await this.#client.get<KubeObject & { data?: Record<string, string> }>(kind === 's' ? SECRETS : CONFIG_MAPS, namespace, name);
      const raw = obj.data ?? {};
      const data = kind === 's' ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : raw;
      return { data };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
