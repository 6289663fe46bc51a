// Reads Secrets and ConfigMaps for resolution, with a short cache, so 1,000 Stacks sharing one Secret
// read it once per TTL. Secret values are decoded here, so nothing downstream sees base64.
import { CONFIG_MAPS, NAMESPACES, SECRETS } from '../api/v1alpha1/resources.ts';
import { isNotFound } from '../runtime/errors.ts';
import type { KubeClient, KubeObject } from '../runtime/kube-client.ts';
import type { KeyedData, ResolveReader } from './resolve.ts';

const REFRESH_AT = 0.8;

export class CachedReader implements ResolveReader {
  readonly #client: KubeClient;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; value: Promise<KeyedData | undefined>; refreshing?: boolean }>();

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

  async namespaceLabels(name: string): Promise<Record<string, string>> {
    return (await this.#get('n', '', name))?.data ?? {};
  }

  #get(kind: 's' | 'c' | 'n', namespace: string, name: string): Promise<KeyedData | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttl) {
      if (now - hit.at >= this.#ttl * REFRESH_AT) this.#refresh(key, hit, kind, namespace, name, now);
      return hit.value;
    }
    const value = this.#fetch(kind, namespace, name);
    this.#cache.set(key, { at: now, value });
    value.catch(() => this.#cache.delete(key));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }

  /**
   * Fetches an entry again in the background once it is 80 % through its TTL, so a Stack read often
   * (1,000 sharing one credentials Secret) does not wait for the apiserver each time the TTL ends: that
   * wait was in the latency tail of spec changes (docs/benchmarks.md). Nothing is served past its TTL.
   */
  #refresh(key: string, hit: { refreshing?: boolean }, kind: 's' | 'c' | 'n', namespace: string, name: string, now: number): void {
    if (hit.refreshing) return;
    hit.refreshing = true;
    // A failed refresh is not retried: the entry stays until its TTL ends, then a read fetches it as
    // usual (a failing API server gets one background read per entry and TTL, not one per access).
    this.#fetch(kind, namespace, name).then(
      (data) => {
        if (this.#cache.get(key) === hit) this.#cache.set(key, { at: now, value: Promise.resolve(data) });
      },
      () => undefined,
    );
  }

  async #fetch(kind: 's' | 'c' | 'n', namespace: string, name: string): Promise<KeyedData | undefined> {
    const resource = kind === 's' ? SECRETS : kind === 'c' ? CONFIG_MAPS : NAMESPACES;
    let obj: KubeObject & { data?: Record<string, string> };
    try {
      obj = await this.#client.get(resource, kind === 'n' ? undefined : namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (kind === 'n') return { data: obj.metadata.labels ?? {} };
    return kind === 's' ? decodeSecret(obj.data ?? {}) : { data: obj.data ?? {} };
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Secret values as text; a value that is not UTF-8 is left out and named, never silently mangled. */
function decodeSecret(raw: Record<string, string>): KeyedData {
  const data: Record<string, string> = {};
  const binaryKeys: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    try {
      data[k] = UTF8.decode(Buffer.from(v, 'base64'));
    } catch {
      binaryKeys.push(k);
    }
  }
  return binaryKeys.length > 0 ? { data, binaryKeys } : { data };
}
