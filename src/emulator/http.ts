// Small HTTP plumbing shared by the emulator front-ends (node:http, no framework).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export type ServiceName = 'keystone' | 'heat' | 'rfs' | 'ros' | 'rosLegacy' | 'cloudFoundry' | 'uaa';

export const SERVICES: readonly ServiceName[] = ['keystone', 'heat', 'rfs', 'ros', 'rosLegacy', 'cloudFoundry', 'uaa'];

export interface EmuRequest {
  method: string;
  /** full URL as received (path includes the front-end prefix) */
  url: URL;
  /** path below the front-end prefix, always starting with "/" */
  path: string;
  /** raw path as sent (prefix included, not decoded) */
  rawPath: string;
  /** raw query string without "?" */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** base URL of the whole emulator (scheme://host:port) as seen by the client */
  base: string;
  /** base URL (no trailing slash) of a service as this client reaches it: its own port with
   * --service-ports (the real service's root paths), else the shared server and the service's prefix */
  svc: (service: ServiceName) => string;
  raw: IncomingMessage;
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function empty(status: number, headers: Record<string, string> = {}): EmuResponse {
  return { status, headers };
}

export function header(req: EmuRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

export class BadJson extends Error {}

export function parseJsonBody(req: EmuRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch (e) {
    throw new BadJson((e as Error).message);
  }
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ISO 8601 without milliseconds, with Z (Heat, RFS, CF). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function requestId(): string {
  return crypto.randomUUID();
}

/** A front-end: one wire protocol below one path prefix. */
export interface FrontEnd {
  readonly service: ServiceName;
  /** path prefix on the shared server; on a service port the front-end is mounted at "/" */
  readonly prefix: string;
  /** operation name used for fault matching and request counters */
  operation(req: EmuRequest): string;
  /** true when the operation is subject to the rate limit */
  limited?(op: string): boolean;
  handle(req: EmuRequest): EmuResponse | Promise<EmuResponse>;
  /** the service's own throttling error */
  throttled(req: EmuRequest, retryAfterSeconds: number, limit: number): EmuResponse;
  /** add rate-limit headers to an allowed response (Cloud Foundry's X-RateLimit-*) */
  rateLimitHeaders?(limit: number, remaining: number): Record<string, string>;
  /** the service's own server error for an injected fault */
  serverError(req: EmuRequest, status: number): EmuResponse;
}

/** Per-request settings a fault hands down to the engine (see the hide-new fault in server.ts). */
export const requestScope = new AsyncLocalStorage<{ hideNewForMs: number }>();
