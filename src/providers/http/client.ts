// The one HTTP client every adapter uses: undici keep-alive Agent (one connection pool per origin)
// with connect / headers / body timeouts and TLS settings, the shared token bucket, bounded retries
// with jitter (only for requests marked idempotent: reads, and writes carrying an idempotency
// token), Retry-After, one re-authentication on 401, metrics and redacted debug logs.
//
// Logging rule: method, path WITHOUT query string, status, duration, attempt. Never headers, never
// bodies, never the query (ROS RPC puts AccessKeyId, Signature and SecurityToken there).
//
// Bounded I/O (docs/security.md, issue 14 item 4): every body is read up to maxBodyBytes and then
// refused; every attempt has a total deadline (headers + body); a Retry-After or rate-limit wait
// longer than a small bound is never slept: the call throws Throttled with retryAfterMs instead.
// Egress goes through undici's EnvHttpProxyAgent (HTTPS_PROXY / HTTP_PROXY / NO_PROXY).
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { deadline } from '../../lib/deadline.ts';
import type { Logger } from 'pino';
import { ProviderError } from '../types.ts';
import { plainHttpRefused } from '../endpoint-policy.ts';
import { observeRequest } from './metrics.ts';
import { redactError } from './redact.ts';
import { backoffMs, parseRetryAfter } from './retry.ts';
import { tlsConnectOptions, type TlsSettings } from './tls.ts';
import type { TokenBucket } from './token-bucket.ts';

/** Default cap on one response body (the operator flag overrides it through HttpClientOptions.maxBodyBytes). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Default total deadline of one attempt, headers and body together. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Longest Retry-After honoured at all (a hostile or broken service may ask for days). */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** From Retry-After (seconds or HTTP date), when present. */
  retryAfterMs?: number;
}

/** What a provider's classify function reads of a non-accepted response. */
export type ErrorResponse = Pick<HttpResponse, 'status' | 'text' | 'retryAfterMs'> & { headers?: Record<string, string> };

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
  tls?: TlsSettings | undefined;
  /** Injected dispatcher (tests): used as is and not closed. */
  dispatcher?: Dispatcher | undefined;
  /** Proxy settings; each one unset falls back to HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case). */
  proxy?: { httpProxy?: string; httpsProxy?: string; noProxy?: string } | undefined;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Total deadline of one attempt (connect, headers and body). Default 60 s. */
  requestTimeoutMs?: number;
  /** Largest response body read; a longer one is refused (ResponseTooLarge). Default 16 MiB. */
  maxBodyBytes?: number;
  /** Attempts per call including the first. Default 3. */
  maxAttempts?: number;
  /** Longest in-call wait before a retry (Retry-After or backoff); longer → throw Throttled / Transient, caller requeues. Default 2 s. */
  maxRetryWaitMs?: number;
  /** Longest wait for a token from the shared bucket. Default 5 s. */
  maxQueueWaitMs?: number;
  /** Send to http:// URLs at all (spec.allowPlainHTTP); otherwise such a request is refused. Default false. */
  allowPlainHTTP?: boolean;
  /** Values never shown in an error message (the provider's credentials): replaced by "[redacted]". */
  secrets?: readonly string[];
  random?: () => number;
}

/** Header names whose values are credentials or derived from them (tokens, signatures). */
const SENSITIVE_HEADERS = /^(authorization|x-auth-token|x-subject-token|x-security-token|x-acs-security-token|proxy-authorization)$/i;


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
      this.#dispatcher = createDispatcher(opts);
      this.#ownsDispatcher = true;
    }
  }

  /** Send with the retry / throttle / re-auth policy. Resolves with an accepted response, else throws ProviderError. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const sent: Record<string, string>[] = [];
    try {
      return await this.#send(req, sent);
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      const headerValues = sent.flatMap((h) => Object.entries(h).filter(([k]) => SENSITIVE_HEADERS.test(k)).map(([, v]) => v));
      throw redactError(e, [...(this.#opts.secrets ?? []), ...headerValues]);
    }
  }

  async #send(req: HttpRequest, sent: Record<string, string>[]): Promise<HttpResponse> {
    if (this.#closed) throw new ProviderError('Transient', 'provider client closed', { code: 'ClientClosed' });
    const maxAttempts = Math.max(1, this.#opts.maxAttempts ?? 3);
    const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
    let reauthed = false;
    let lastError: ProviderError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      req.signal?.throwIfAborted();
      await this.#opts.bucket.take(this.#opts.maxQueueWaitMs ?? 5_000, req.signal);
      let res: HttpResponse;
      try {
        res = await this.#once(req, attempt, sent);
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        if (e instanceof ProviderError) throw e; // auth failures from prepare(), oversized bodies: already classified
        lastError = new ProviderError('Transient', `request failed: ${errorText(e)}`, { code: errorCode(e), cause: e });
        // A mutation without an idempotency token is never re-sent blindly: the caller reads first.
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
      lastError = this.#classify(res, req);
      const wait = this.#retryWait(lastError, req, attempt, maxAttempts);
      if (wait === undefined) throw lastError;
      await this.#pauseBeforeRetry(wait, req.signal);
    }
    throw lastError ?? new ProviderError('Transient', 'request failed');
  }

  #classify(res: HttpResponse, req: HttpRequest): ProviderError {
    const err = this.#opts.classify(res, req);
    if (err.kind === 'Throttled' && err.retryAfterMs !== undefined) this.#opts.bucket.pause(err.retryAfterMs);
    return err;
  }

  /** How long to wait before the next attempt, or undefined: give the error to the caller now. */
  #retryWait(err: ProviderError, req: HttpRequest, attempt: number, maxAttempts: number): number | undefined {
    const retryable = req.idempotent && (err.kind === 'Transient' || err.kind === 'Throttled');
    if (!retryable || attempt === maxAttempts) return undefined;
    const wait = Math.max(err.retryAfterMs ?? 0, backoffMs(attempt, this.#opts.random));
    return wait > (this.#opts.maxRetryWaitMs ?? 2_000) ? undefined : wait;
  }

  async #pauseBeforeRetry(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  }

  async #once(req: HttpRequest, attempt: number, sent: Record<string, string>[]): Promise<HttpResponse> {
    const url = new URL(req.url);
    if (url.protocol === 'http:' && this.#opts.allowPlainHTTP !== true) throw plainHttpRefused(url.href, `${this.provider} endpoint`);
    const prepared: PreparedRequest = { method: req.method, url, headers: { ...(req.headers ?? {}) }, body: req.body ?? '' };
    if (req.prepare) await req.prepare(prepared);
    sent.push(prepared.headers);
    const started = performance.now();
    const timeoutMs = this.#opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const limit = deadline(timeoutMs, req.signal);
    const signal = limit.signal;
    let code = 'error';
    try {
      const r = await this.#dispatcher.request({
        origin: prepared.url.origin,
        path: prepared.url.pathname + prepared.url.search,
        method: prepared.method,
        headers: prepared.headers,
        body: prepared.body === '' && (prepared.method === 'GET' || prepared.method === 'DELETE') ? null : prepared.body,
        signal,
      });
      code = String(r.statusCode);
      const text = await readCapped(r.body, this.#opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, this.provider);
      return responseOf(r.statusCode, r.headers, text);
    } catch (e) {
      if (limit.expired && !req.signal?.aborted) {
        throw new ProviderError('Transient', `no complete answer within ${timeoutMs} ms (request deadline)`, { code: 'RequestTimeout', cause: e });
      }
      throw e;
    } finally {
      limit.dispose();
      this.#observe(req, prepared, code, attempt, started);
    }
  }

  #observe(req: HttpRequest, prepared: PreparedRequest, code: string, attempt: number, started: number): void {
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

/** The client's own dispatcher: keep-alive pools per origin, proxy-aware, with the TLS settings on every hop. */
export function createDispatcher(opts: Pick<HttpClientOptions, 'tls' | 'proxy' | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs'>): Dispatcher {
  const connectTimeout = opts.connectTimeoutMs ?? 10_000;
  const tls = tlsConnectOptions(opts.tls);
  return new EnvHttpProxyAgent({
    ...(opts.proxy ?? {}),
    connections: 32,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: opts.headersTimeoutMs ?? 30_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 60_000,
    // Direct connections use `connect`; through a proxy, `requestTls` is the TLS to the service
    // (tunnelled with CONNECT) and `proxyTls` the TLS to an https proxy.
    connect: { timeout: connectTimeout, ...tls },
    connectTimeout,
    requestTls: tls,
    proxyTls: tls,
    proxyTunnel: true,
  });
}

/** Read a body, refusing (and destroying the stream) past maxBytes: a hostile endpoint cannot make us buffer it. */
export async function readCapped(body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown }, maxBytes: number, provider: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw new ProviderError('Transient', `${provider}: response body larger than ${maxBytes} bytes; refused`, { code: 'ResponseTooLarge' });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function responseOf(status: number, raw: Record<string, string | string[] | undefined>, text: string): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  const parsed = parseRetryAfter(headers['retry-after'], Date.now());
  const retryAfterMs = parsed === undefined ? undefined : Math.min(parsed, MAX_RETRY_AFTER_MS);
  return { status, headers, text, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
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
