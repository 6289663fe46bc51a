import { describe, expect, it } from 'vitest';
import { backoffMs, parseRetryAfter } from './retry.ts';
import { TokenBucket } from './token-bucket.ts';
import { ProviderError } from '../types.ts';

describe('Retry-After', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it('delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
  it('HTTP-date, never negative', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
  });
  it('garbage and absence', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('2015-10-21', now)).toBeUndefined();
  });
});

describe('backoff', () => {
  it('grows exponentially with equal jitter, capped', () => {
    expect(backoffMs(1, () => 0)).toBe(125);
    expect(backoffMs(1, () => 1)).toBe(250);
    expect(backoffMs(3, () => 0)).toBe(500);
    expect(backoffMs(30, () => 1)).toBe(5000);
    expect(backoffMs(30, () => 0)).toBe(2500);
  });
});

describe('TokenBucket (fake clock)', () => {
  it('burst first, then one token per 1/qps, reservations queue up', () => {
    let t = 0;
    const b = new TokenBucket(2, 3, () => t);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBe(500);
    expect(b.reserve()).toBe(1000);
    t = 1000; // two tokens refilled: both reservations are now paid
    expect(b.reserve()).toBe(500);
  });
  it('refill is capped at burst', () => {
    let t = 0;
    const b = new TokenBucket(10, 2, () => t);
    b.reserve();
    b.reserve();
    t = 60_000;
    expect(b.available()).toBe(2);
  });
  it('release gives a reservation back', () => {
    const t = 0;
    const b = new TokenBucket(1, 1, () => t);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBe(1000);
    b.release();
    expect(b.reserve()).toBe(1000);
  });
  it('pause (Retry-After) delays everyone', () => {
    let t = 0;
    const b = new TokenBucket(100, 100, () => t);
    b.pause(3000);
    expect(b.reserve()).toBe(3000);
    t = 3000;
    expect(b.reserve()).toBe(0);
  });
  it('qps 0 means unlimited', () => {
    const b = new TokenBucket(0, 1, () => 0);
    for (let i = 0; i < 100; i++) expect(b.reserve()).toBe(0);
  });
  it('take() refuses waits above the bound with Throttled', async () => {
    let t = 0;
    const b = new TokenBucket(1, 1, () => t);
    await b.take(0);
    const err = await b.take(100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('Throttled');
    expect((err as ProviderError).retryAfterMs).toBe(1000);
    t = 1000;
    await b.take(0); // the refused reservation was released
  });
});
