// Test control state: latency, rate limits (token buckets), fault injection and request counters.
import type { Clock } from './engine/clock.ts';
import type { ServiceName } from './http.ts';

export interface RateLimitConfig {
  /** sustained requests per second */
  requestsPerSecond: number;
  /** bucket size (default: requestsPerSecond, at least 1) */
  burst?: number;
}

export interface RateLimitOptions extends Partial<RateLimitConfig> {
  /** per-service overrides (a service listed here is limited even when the global rate is unset) */
  services?: Partial<Record<ServiceName, RateLimitConfig | null>>;
}

export interface FaultRule {
  id?: string;
  /** service to match, or '*' (default) */
  service?: ServiceName | '*';
  /** operation to match (see docs/emulator.md), or '*' (default) */
  operation?: string;
  /**
   * error: answer with `status` in the service's error format; drop: destroy the connection before handling;
   * slow: delay `delayMs` then handle normally; reset-after: handle the request, then reset the connection
   * instead of replying (a lost reply); hide-new: handle normally, but a stack the request creates stays
   * out of GET / list for `delayMs` (default 5000)
   */
  kind: 'error' | 'drop' | 'slow' | 'reset-after' | 'hide-new';
  status?: number;
  delayMs?: number;
  /** how many requests the rule applies to (default: unlimited) */
  times?: number;
  /** 0..1, default 1 */
  probability?: number;
}

export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number;

  constructor(cfg: RateLimitConfig, now: number) {
    this.rate = cfg.requestsPerSecond;
    this.burst = Math.max(1, cfg.burst ?? Math.ceil(cfg.requestsPerSecond));
    this.#tokens = this.burst;
    this.#last = now;
  }

  /** Take one token. Returns 0 when allowed, else the milliseconds until a token is available. */
  take(now: number): number {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    if (this.rate <= 0) return 60_000;
    return Math.ceil(((1 - this.#tokens) / this.rate) * 1000);
  }

  remaining(): number {
    return Math.floor(this.#tokens);
  }
}

export class Control {
  readonly clock: Clock;
  latencyMs: number;
  readonly serviceLatencyMs = new Map<ServiceName, number>();
  #globalLimit: RateLimitConfig | undefined;
  readonly #buckets = new Map<ServiceName, TokenBucket | null>();
  readonly #serviceLimits = new Map<ServiceName, RateLimitConfig | null>();
  #faults: (FaultRule & { id: string })[] = [];
  #nextFault = 1;
  readonly requests = new Map<string, number>();
  throttledCount = 0;

  constructor(clock: Clock, opts: { latencyMs?: number; rateLimit?: RateLimitOptions } = {}) {
    this.clock = clock;
    this.latencyMs = opts.latencyMs ?? 0;
    if (opts.rateLimit) this.setRateLimit(opts.rateLimit);
  }

  /** Replace the rate limit configuration (null/undefined requestsPerSecond = unlimited). */
  setRateLimit(opts: RateLimitOptions | null): void {
    this.#buckets.clear();
    this.#serviceLimits.clear();
    this.#globalLimit = opts?.requestsPerSecond !== undefined ? { requestsPerSecond: opts.requestsPerSecond, ...(opts.burst !== undefined ? { burst: opts.burst } : {}) } : undefined;
    for (const [svc, cfg] of Object.entries(opts?.services ?? {})) this.#serviceLimits.set(svc as ServiceName, cfg ?? null);
  }

  rateLimitOf(service: ServiceName): RateLimitConfig | undefined {
    if (this.#serviceLimits.has(service)) return this.#serviceLimits.get(service) ?? undefined;
    // keystone and uaa are only limited when configured explicitly
    if (service === 'keystone' || service === 'uaa') return undefined;
    return this.#globalLimit;
  }

  /** 0 = allowed; otherwise ms until the next token. */
  takeToken(service: ServiceName): { waitMs: number; limit: number; remaining: number } {
    let b = this.#buckets.get(service);
    if (b === undefined) {
      const cfg = this.rateLimitOf(service);
      b = cfg ? new TokenBucket(cfg, this.clock.now()) : null;
      this.#buckets.set(service, b);
    }
    if (!b) return { waitMs: 0, limit: 0, remaining: 0 };
    const waitMs = b.take(this.clock.now());
    if (waitMs > 0) this.throttledCount++;
    return { waitMs, limit: b.burst, remaining: b.remaining() };
  }

  addFault(rule: FaultRule): string {
    const id = rule.id ?? `fault-${this.#nextFault++}`;
    this.#faults.push({ ...rule, id });
    return id;
  }

  removeFault(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  clearFaults(): void {
    this.#faults = [];
  }

  faults(): FaultRule[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Find (and consume) the first fault matching this request. */
  matchFault(service: ServiceName, operation: string): FaultRule | undefined {
    for (const f of this.#faults) {
      if (f.service && f.service !== '*' && f.service !== service) continue;
      if (f.operation && f.operation !== '*' && f.operation !== operation) continue;
      if (f.probability !== undefined && Math.random() >= f.probability) continue;
      if (f.times !== undefined) {
        if (f.times <= 0) continue;
        f.times--;
        if (f.times <= 0) this.removeFault(f.id);
      }
      return { ...f };
    }
    return undefined;
  }

  latencyFor(service: ServiceName): number {
    return this.serviceLatencyMs.get(service) ?? this.latencyMs;
  }

  countRequest(service: ServiceName, operation: string): void {
    const k = `${service}:${operation}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.requests].sort(([a], [b]) => a.localeCompare(b)));
  }

  resetCounters(): void {
    this.requests.clear();
    this.throttledCount = 0;
  }
}
