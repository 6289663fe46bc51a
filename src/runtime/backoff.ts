// Exponential backoff with jitter and reset-after-health, as used by client-go's reflector and
// kube-rs' watcher (DefaultBackoff: 800 ms doubling to 30 s, reset after 120 s of health).

export interface BackoffOptions {
  /** First delay. Default 800 ms. */
  initialMs?: number;
  /** Cap. Default 30 s. */
  maxMs?: number;
  /** Multiplier. Default 2. */
  factor?: number;
  /** Relative jitter added on top: delay * (1 + jitter * random). Default 0.5 (kube-rs uses full jitter-ish). */
  jitter?: number;
  /** A run that stayed healthy this long resets the sequence. Default 120 s. */
  resetAfterMs?: number;
  /** Random source in [0,1) (tests inject a constant). */
  random?: () => number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly resetAfterMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 800;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.5;
    this.resetAfterMs = opts.resetAfterMs ?? 120_000;
    this.#random = opts.random ?? Math.random;
  }

  /** Number of consecutive failures seen since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; advances the sequence. Never above maxMs. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, Math.min(this.#attempt, 64)));
    this.#attempt++;
    return Math.min(this.maxMs, Math.round(base * (1 + this.jitter * this.#random())));
  }

  reset(): void {
    this.#attempt = 0;
  }

  /** Resets when a run that started at `startedAt` lasted at least resetAfterMs by `now`. */
  noteRunEnded(startedAt: number, now: number): void {
    if (now - startedAt >= this.resetAfterMs) this.reset();
  }
}
