// The one HTTP client every adapter uses: undici keep-alive Agent (one connection pool per origin)
// with connect / headers / body timeouts and TLS settings, the shared token bucket, bounded retries
// with jitter (only for requests marked idempotent: reads, and writes carrying an idempotency
// token), Retry-After, one re-authentication on 401, metrics and redacted debug logs.
//
// Logging rule: method, path WITHOUT query string, status, duration, attempt. Never headers, never
// bodies, never the query (ROS RPC puts AccessKeyId, Signature and SecurityToken there).
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { ProviderError } from '../types.ts';
import { observeRequest } from './metrics.ts';
import { backoffMs, parseRetryAfter } from './retry.ts';
import type { TokenBucket } from './token-bucket.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** From Retry-After (seconds or HTTP date), when present. */
  retryAfterMs?: number;
}

/** The request as the signer / authenticator sees it on each attempt (mutable headers). */
export interface PreparedRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface HttpRequest {
  /** Metrics / log label, e.g. "CreateStack", "get". */
  operation: string;
  method: HttpMethod;
  url: string | URL;
  headers?: Record<string, string>;
  body?: string;
  /** Safe to send again: reads, and writes that carry an idempotency token. */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** Statuses returned to the caller instead of being mapped to errors. Default: 2xx. */
  accept?: (status: number) => boolean;
  /** Runs before every attempt: authentication headers, signatures (fresh date / nonce). */
  prepare?: (req: PreparedRequest) => void | Promise<void>;
  /** Called on a 401; the request is then sent once more (counts as no attempt). */
  onUnauthorized?: () => void | Promise<void>;
}

export interface HttpClientOptions {
  provider: string;
  logger: Logger;
  bucket: TokenBucket;
  /** Maps a non-accepted response to the provider's taxonomy. */
  classify: (res: HttpResponse, req: HttpRequest) => ProviderError;
  tls?: { caBundle?: string; insecureSkipVerify?: boolean } | undefined;
  /** Injected dispatcher (tests, proxies): used as is and not closed. */
  dispatcher?: Dispatcher | undefined;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Attempts per call including the first. Default 3. */
  maxAttempts?: number;
  /** Longest in-call wait before a retry (Retry-After or backoff); longer → throw, caller requeues. */
  maxRetryWaitMs?: number;
  /** Longest wait for a token from the shared bucket. */
  maxQueueWaitMs?: number;
  random?: () => number;
}


export class HttpClient {
  readonly provider: string;
  readonly #opts: HttpClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #closed = false;

  constructor(opts: HttpClientOptions) {
    this.provider = opts.provider;
    this.#opts = opts;
    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      const ca = opts.tls?.caBundle;
      this.#dispatcher = new Agent({
        connections: 32,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
        headersTimeout: opts.headersTimeoutMs ?? 30_000,
        bodyTimeout: opts.bodyTimeoutMs ?? 60_000,
        connect: {
          timeout: opts.connectTimeoutMs ?? 10_000,
          ...(ca ? { ca } : {}),
          rejectUnauthorized: opts.tls?.insecureSkipVerify !== true,
        },
      });
      this.#ownsDispatcher = true;
    }
  }

  /** Send with the retry / throttle / re-auth policy. Resolves with an accepted response, else throws ProviderError. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) throw new ProviderError('Transient', 'provider client closed', { code: 'ClientClosed' });
    const maxAttempts = Math.max(1, this.#opts.maxAttempts ?? 3);
    const maxRetryWait = this.#opts.maxRetryWaitMs ?? 10_000;
    const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
    let reauthed = false;
    let lastError: ProviderError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      req.signal?.throwIfAborted();
      await this.#opts.bucket.take(this.#opts.maxQueueWaitMs ?? 30_000, req.signal);
      let res: HttpResponse;
      try {
        res = await this.#once(req, attempt);
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        if (e instanceof ProviderError) throw e; // from prepare(): auth failures are already classified
        lastError = new ProviderError('Transient', `request failed: ${errorText(e)}`, { code: errorCode(e), cause: e });
        if (!req.idempotent || attempt === maxAttempts) throw lastError;
        await this.#pauseBeforeRetry(backoffMs(attempt, this.#opts.random), req.signal);
        continue;
      }
      if (accept(res.status)) return res;
      if (res.status === 401 && req.onUnauthorized && !reauthed) {
        reauthed = true;
        await req.onUnauthorized();
        attempt--; // the re-authenticated retry does not count
        continue;
      }
      const err = this.#opts.classify(res, req);
      lastError = err;
      if (err.kind === 'Throttled' && err.retryAfterMs !== undefined) this.#opts.bucket.pause(err.retryAfterMs);
      const retryable = req.idempotent && (err.kind === 'Transient' || err.kind === 'Throttled');
      if (!retryable || attempt === maxAttempts) throw err;
      const wait = Math.max(err.retryAfterMs ?? 0, backoffMs(attempt, this.#opts.random));
      if (wait > maxRetryWait) throw err;
      await this.#pauseBeforeRetry(wait, req.signal);
    }
    throw lastError ?? new ProviderError('Transient', 'request failed');
  }

  async #pauseBeforeRetry(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  }

  async #once(req: HttpRequest, attempt: number): Promise<HttpResponse> {
    const url = new URL(req.url);
    const prepared: PreparedRequest = { method: req.method, url, headers: { ...(req.headers ?? {}) }, body: req.body ?? '' };
    if (req.prepare) await req.prepare(prepared);
    const started = performance.now();
    let code = 'error';
    try {
      const r = await this.#dispatcher.request({
        origin: prepared.url.origin,
        path: prepared.url.pathname + prepared.url.search,
        method: prepared.method,
        headers: prepared.headers,
        body: prepared.body === '' && (prepared.method === 'GET' || prepared.method === 'DELETE') ? null : prepared.body,
        signal: req.signal ?? null,
      });
      const text = await r.body.text();
      code = String(r.statusCode);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) {
        if (v === undefined) continue;
        headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      const retryAfterMs = parseRetryAfter(headers['retry-after'], Date.now());
      return { status: r.statusCode, headers, text, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    } finally {
      const seconds = (performance.now() - started) / 1000;
      observeRequest(this.provider, req.operation, code, seconds);
      this.#opts.logger.debug(
        {
          provider: this.provider,
          operation: req.operation,
          method: prepared.method,
          path: redactPath(prepared.url),
          status: code,
          durationMs: Math.round(seconds * 1000),
          attempt,
        },
        'provider request',
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

/** Path only: no query (may hold signatures, access key ids, tokens), no userinfo. */
export function redactPath(url: URL): string {
  return url.pathname;
}

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'NetworkError';
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 300);
  return String(e).slice(0, 300);
}

/** Parse a JSON body; undefined when empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
