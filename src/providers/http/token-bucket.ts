// A token bucket shared by every Stack that uses one provider object: each HTTP attempt takes one
// token. Callers that find the bucket empty reserve a future token and wait (FIFO by reservation),
// bounded by maxWaitMs; a 429 with Retry-After pauses the whole bucket so no caller hammers a
// throttling endpoint. The arithmetic is synchronous and clock-injected so it is unit-tested
// without timers.
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '../types.ts';

export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  #pausedUntil = 0;

  constructor(qps: number, burst: number, now: () => number = Date.now) {
    this.qps = qps;
    this.burst = Math.max(1, Math.floor(burst));
    this.#now = now;
    this.#tokens = this.burst;
    this.#last = now();
  }

  get unlimited(): boolean {
    return !(this.qps > 0) || !Number.isFinite(this.qps);
  }

  #refill(t: number): void {
    if (t > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.qps);
      this.#last = t;
    }
  }

  /** Tokens available now (may be negative while reservations are outstanding). */
  available(): number {
    this.#refill(this.#now());
    return this.#tokens;
  }

  /**
   * Reserve one token. Returns how long the caller must wait before using it (0 = go now).
   * A reservation that the caller abandons must be given back with {@link release}.
   */
  reserve(): number {
    const t = this.#now();
    const pause = Math.max(0, this.#pausedUntil - t);
    if (this.unlimited) return pause;
    this.#refill(t);
    this.#tokens -= 1;
    const wait = this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
    return Math.max(wait, pause);
  }

  /** Give back a reserved token (the caller gave up waiting). */
  release(): void {
    if (!this.unlimited) this.#tokens = Math.min(this.burst, this.#tokens + 1);
  }

  /** Stop handing out immediate tokens for `ms` (the service said Retry-After). */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }

  /**
   * Take a token, waiting at most maxWaitMs. Throws ProviderError 'Throttled' (with retryAfterMs)
   * when the wait would be longer, so the caller requeues instead of holding a worker.
   */
  async take(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return;
    if (wait > maxWaitMs) {
      this.release();
      throw new ProviderError('Throttled', `client-side rate limit: next request slot in ${wait} ms`, {
        code: 'ClientRateLimited',
        retryAfterMs: wait,
      });
    }
    try {
      await sleep(wait, undefined, signal ? { signal } : undefined);
    } catch (e) {
      this.release();
      throw e;
    }
  }
}
