// A thin, generic Kubernetes REST client on top of client-node's KubeConfig (auth, TLS) and undici.
//
// Why not the generated APIs: the runtime is generic over group/version/plural (core and custom
// resources alike), needs raw streaming for watches with our own watchdog, per-request timeouts and
// arbitrary patch content types. client-node 2.0.1 has no per-request timeout and creates a new
// undici Agent per request; here the dispatcher is created once per KubeConfig and reused.
//
// Requests go through undici's `request()`, not its `fetch()`: fetch wraps every request and body in
// WHATWG objects and web streams, and cost this process about a third more CPU per request
// (test/bench/notes.md, twelfth round). What fetch did besides is done here: gzip bodies are inflated,
// and a network failure keeps undici's own error (errors.ts, isNetworkError).
//
// Errors: non-2xx answers throw client-node's ApiException(code, message, body=V1Status, headers),
// so `errors.ts` classifies them exactly like errors from the generated clients.
//
// Only client-node's small modules are loaded here (the exception class, the request context its
// KubeConfig authenticates): its index loads the whole generated API (docs/benchmarks.md, memory).
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createGunzip } from 'node:zlib';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { deadline } from '../lib/deadline.ts';
import { type Clock, realClock, sleep } from './clock.ts';
import { BucketRateLimiter } from './workqueue.ts';

/** Identifies a resource type. `group` is '' for the core API. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  /** Default true. */
  namespaced?: boolean;
  /** Kind, for building objects (events, apply). Optional. */
  kind?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  [k: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  /** Default application/json for bodies. */
  contentType?: string;
  signal?: AbortSignal;
  /** Per-request timeout; default the client's (30 s). 0 disables (watches). */
  timeoutMs?: number;
}

export interface KubeClientOptions {
  /** Default per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /**
   * Client-side rate limit of API requests (client-go's QPS / Burst), watches included. Unset or 0:
   * none, leaving fairness to the API server's priority and fairness.
   */
  qps?: number;
  burst?: number;
  clock?: Clock;
  /**
   * User-Agent of every request, client-go's form "name/version (os/arch) …". The API server names a
   * write's field manager (metadata.managedFields) and its audit entries after the part before the
   * first "/" when the request names no fieldManager; without it, that is undici's "undici".
   */
  userAgent?: string;
}

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** /api/v1[/namespaces/ns]/plural[/name[/sub]] or /apis/group/version/... */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (namespace !== undefined && namespace !== '' && r.namespaced !== false) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) p += `/${subresource}`;
  return p;
}

export function apiVersionOf(r: ResourceRef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** "namespace/name", or "name" for cluster-scoped objects (client-go MetaNamespaceKeyFunc). */
export function objectKey(obj: { metadata: ObjectMeta }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** Splits a key made by objectKey. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Where the API server is and how to authenticate to it: a KubeConfig, or one without client-node (in-cluster.ts). */
export interface ClusterConnection {
  server: string;
  /** The credentials of one request, and how to make a new connection pool with the TLS settings. */
  authenticate(): Promise<{ headers: Record<string, string>; dispatcher: () => Dispatcher }>;
}

/** A client-node KubeConfig as a ClusterConnection: its auth (tokens, certificates, exec plugins) and TLS. */
export function kubeConfigConnection(kc: KubeConfig): ClusterConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  return {
    server: cluster.server,
    authenticate: async () => {
      const ctx = new RequestContext(cluster.server, HttpMethod.GET);
      // Also builds an Agent with the TLS options (client-node 2.0.1 builds one per call).
      await kc.applySecurityAuthentication(ctx);
      return { headers: ctx.getHeaders(), dispatcher: () => ctx.getDispatcher() ?? new Agent() };
    },
  };
}

const isConnection = (x: KubeConfig | ClusterConnection): x is ClusterConnection => typeof (x as Partial<ClusterConnection>).authenticate === 'function';

export class KubeClient {
  readonly connection: ClusterConnection;
  readonly timeoutMs: number;
  readonly #server: string;
  readonly #limiter: { bucket: BucketRateLimiter<string>; clock: Clock } | undefined;
  readonly #userAgent: string | undefined;
  /** The shared pool of ordinary requests; replaced after a timeout (see #send). */
  #pool: { d: Dispatcher } | undefined;

  constructor(kubeConfig: KubeConfig | ClusterConnection, opts: KubeClientOptions = {}) {
    this.connection = isConnection(kubeConfig) ? kubeConfig : kubeConfigConnection(kubeConfig);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const clock = opts.clock ?? realClock;
    if (opts.qps && opts.qps > 0) this.#limiter = { bucket: new BucketRateLimiter(opts.qps, Math.max(1, opts.burst ?? Math.ceil(opts.qps)), clock), clock };
    this.#server = this.connection.server.replace(/\/+$/, '');
    this.#userAgent = opts.userAgent;
  }

  /** Sends a request; resolves the parsed JSON body (undefined for empty bodies), throws ApiException on non-2xx. */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    // The deadline covers the body too, and is cleared as soon as the body is read (lib/deadline.ts).
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const limit = timeoutMs > 0 ? deadline(timeoutMs, opts.signal) : undefined;
    try {
      const res = await this.#send({ ...opts, ...(limit ? { signal: limit.signal } : {}) });
      const text = await bodyText(res);
      if (res.statusCode < 200 || res.statusCode >= 300) throw toApiException(res.statusCode, opts, text, res.headers);
      if (text === '') return undefined as T;
      return JSON.parse(text) as T;
    } finally {
      limit?.dispose();
    }
  }

  /**
   * Opens a streaming GET (watch). Resolves once headers arrive with a 200; throws ApiException
   * otherwise. The caller reads `lines` and aborts through its own signal.
   */
  async stream(opts: Omit<RequestOptions, 'method' | 'body' | 'contentType'>): Promise<AsyncIterable<string>> {
    // Each stream gets a connection of its own, closed when the stream ends: undici keeps a socket
    // after an aborted request and hands it to the next request, so a watch aborted by the informer's
    // watchdog (a silently dead connection) would be re-opened on that same dead socket, for ever
    // (docs/reliability.md, T9).
    const own: { d?: Dispatcher } = {};
    const dispose = (): void => {
      const d = own.d;
      own.d = undefined;
      if (d) void d.destroy().catch(() => undefined);
    };
    opts.signal?.addEventListener('abort', dispose, { once: true });
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send({ ...opts, method: 'GET' }, own);
    } catch (err) {
      dispose();
      throw err;
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      dispose();
      throw toApiException(res.statusCode, { ...opts, method: 'GET' }, text, res.headers);
    }
    const body = res.body;
    return (async function* () {
      try {
        yield* splitLines(body);
      } finally {
        dispose();
      }
    })();
  }

  get<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: 'GET', path: resourcePath(r, namespace, name), signal });
  }
  list<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, query: Query = {}, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.request<KubeList<T>>({ method: 'GET', path: resourcePath(r, namespace), query, signal });
  }
  create<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: 'POST', path: resourcePath(r, namespace), body, signal });
  }
  replace<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, name: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: 'PUT', path: resourcePath(r, namespace, name), body, signal });
  }
  patch<T extends KubeObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: { contentType: string; subresource?: string; query?: Query; signal?: AbortSignal },
  ): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(r, namespace, name, opts.subresource),
      body,
      contentType: opts.contentType,
      query: opts.query,
      signal: opts.signal,
    });
  }
  delete(r: ResourceRef, namespace: string | undefined, name: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.request({ method: 'DELETE', path: resourcePath(r, namespace, name), body, signal });
  }

  /**
   * With `own`, the request runs on a dispatcher of its own (returned in `own.d`; the caller destroys it).
   * `opts.signal` carries the deadline (request() sets one; a watch has none).
   */
  async #send(opts: RequestOptions, own?: { d?: Dispatcher }): Promise<Dispatcher.ResponseData> {
    // Reservation semantics (golang.org/x/time/rate): wait for this request's slot.
    const wait = this.#limiter?.bucket.when('') ?? 0;
    if (wait > 0 && this.#limiter) await sleep(this.#limiter.clock, wait, opts.signal);
    const url = new URL(this.#server + opts.path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const auth = await this.connection.authenticate();
    const headers = auth.headers;
    let cached = this.#pool;
    if (own) {
      own.d = auth.dispatcher();
      cached = { d: own.d };
    } else if (!cached) {
      cached = { d: auth.dispatcher() };
      this.#pool = cached;
    }
    headers.accept = 'application/json';
    // The API server gzips responses over 128 KB (LIST pages) when asked; a watch (the only request on
    // a dispatcher of its own) is left plain.
    if (!own) headers['accept-encoding'] = 'gzip';
    if (this.#userAgent) headers['user-agent'] = this.#userAgent;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    try {
      return await undiciRequest(url, { method: opts.method, headers, body, dispatcher: cached.d, signal: opts.signal });
    } catch (err) {
      // A request that timed out may sit on a connection that died silently (no FIN / RST); undici
      // would keep handing that connection out. Start a fresh pool; the old one is destroyed after a
      // grace that lets its healthy in-flight requests finish (docs/reliability.md, T9).
      if (!own && (err as { name?: string } | undefined)?.name === 'TimeoutError' && this.#pool === cached) {
        this.#pool = undefined;
        const old = cached.d;
        setTimeout(() => void old.destroy().catch(() => undefined), 30_000).unref();
      }
      throw err;
    }
  }
}

/**
 * The body as text, inflated when gzipped: as a stream, in libuv's pool (a LIST page is megabytes;
 * inflated whole it left ~15 MiB more RSS, `test/bench/list-rss.ts`). An error or abort of the body
 * reaches the inflater through the pipeline.
 */
function bodyText(res: Dispatcher.ResponseData): Promise<string> {
  if (res.headers['content-encoding'] !== 'gzip') return res.body.text();
  return text(pipeline(res.body, createGunzip(), () => undefined));
}

function toApiException(status: number, opts: { method: string; path: string }, text: string, headers: IncomingHttpHeaders): ApiException<unknown> {
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: keep text
  }
  const msg =
    typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : text.slice(0, 200);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
  return new ApiException(status, `HTTP ${status} ${opts.method} ${opts.path}: ${msg}`, body, h);
}

async function* splitLines(body: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line !== '') yield line;
    }
  }
  const rest = (buf + decoder.decode()).trim();
  if (rest !== '') yield rest;
}
