import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { Backoff } from './backoff.ts';
import { conditionsEqual, deepEqual, findCondition, removeCondition, setCondition, type Condition } from './conditions.ts';
import {
  ConflictError,
  TerminalError,
  TransientError,
  errorSummary,
  isAlreadyExists,
  isConflict,
  isGone,
  isNetworkError,
  isNotFound,
  isTerminal,
  retryAfterMs,
  statusCode,
} from './errors.ts';
import { errors as undiciErrors } from 'undici';
import { addFinalizerPatch, hasFinalizer, removeFinalizerPatch } from './finalizers.ts';
import { objectKey, resourcePath, splitKey } from './kube-client.ts';
import { microTime } from './leader-election.ts';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

describe('conditions', () => {
  it('lastTransitionTime moves only when status flips; observedGeneration recorded', () => {
    let c: Condition[] = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Progressing', message: 'a', observedGeneration: 1 }, T0);
    expect(c).toEqual([{ type: 'Ready', status: 'False', reason: 'Progressing', message: 'a', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'StillGoing', message: 'b', observedGeneration: 2 }, T0 + 60_000);
    expect(findCondition(c, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(findCondition(c, 'Ready')?.observedGeneration).toBe(2);
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Done', message: '', observedGeneration: 2 }, T0 + 120_000);
    expect(findCondition(c, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:02:00Z');
    c = setCondition(c, { type: 'Stalled', status: 'False', reason: 'X', message: '' }, T0);
    expect(c.map((x) => x.type)).toEqual(['Ready', 'Stalled']);
    expect(removeCondition(c, 'Stalled').map((x) => x.type)).toEqual(['Ready']);
  });

  it('equality lets callers skip no-op writes', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Done', message: '', observedGeneration: 3 }, T0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Done', message: '', observedGeneration: 3 }, T0 + 5000);
    expect(conditionsEqual(a, b)).toBe(true);
    expect(deepEqual({ x: 1, conditions: a }, { conditions: b, x: 1, y: undefined })).toBe(true);
    const c = setCondition(a, { type: 'Ready', status: 'True', reason: 'Done', message: 'changed', observedGeneration: 3 }, T0);
    expect(conditionsEqual(a, c)).toBe(false);
    expect(conditionsEqual([], undefined)).toBe(true);
  });
});

describe('finalizer patches', () => {
  const F = 'example.com/finalizer';
  it('add tests null when absent, the whole list otherwise', () => {
    expect(addFinalizerPatch({ metadata: { name: 'x' } }, F)).toEqual([
      { op: 'test', path: '/metadata/finalizers', value: null },
      { op: 'add', path: '/metadata/finalizers', value: [F] },
    ]);
    expect(addFinalizerPatch({ metadata: { name: 'x', finalizers: ['other'] } }, F)).toEqual([
      { op: 'test', path: '/metadata/finalizers', value: ['other'] },
      { op: 'add', path: '/metadata/finalizers/-', value: F },
    ]);
    expect(addFinalizerPatch({ metadata: { name: 'x', finalizers: [F] } }, F)).toEqual([]);
  });
  it('remove tests the element at its index', () => {
    expect(removeFinalizerPatch({ metadata: { finalizers: ['a', F] } }, F)).toEqual([
      { op: 'test', path: '/metadata/finalizers/1', value: F },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
    expect(removeFinalizerPatch({ metadata: {} }, F)).toEqual([]);
    expect(hasFinalizer({ metadata: { finalizers: [F] } }, F)).toBe(true);
  });
});

describe('errors', () => {
  const api = (code: number, reason?: string, headers: Record<string, string> = {}): ApiException<unknown> =>
    new ApiException(code, 'x', { kind: 'Status', reason, message: `m${code}`, code }, headers);
  it('classifies ApiException and plain status-carrying errors', () => {
    expect(isNotFound(api(404))).toBe(true);
    expect(isConflict(api(409, 'Conflict'))).toBe(true);
    expect(isConflict(api(409, 'AlreadyExists'))).toBe(false);
    expect(isAlreadyExists(api(409, 'AlreadyExists'))).toBe(true);
    expect(isGone(Object.assign(new Error('x'), { statusCode: 410 }))).toBe(true);
    expect(statusCode(new Error('x'))).toBeUndefined();
    expect(isConflict(new ConflictError('c'))).toBe(true);
    expect(isTerminal(new TerminalError('t'))).toBe(true);
    expect(isTerminal(new Error('t'))).toBe(false);
  });
  it('reads Retry-After from header, Status details or the error', () => {
    expect(retryAfterMs(api(429, 'TooManyRequests', { 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new ApiException(429, 'x', { details: { retryAfterSeconds: 2 } }, {}))).toBe(2000);
    expect(retryAfterMs(new TransientError('t', { retryAfterMs: 1500 }))).toBe(1500);
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
  it('summaries are log-safe', () => {
    const e = new ApiException(500, 'HTTP-Code: 500 Message: ... Headers: {"authorization":"Bearer secret"}', { reason: 'InternalError', message: 'boom' }, {});
    expect(errorSummary(e)).toEqual({ code: 500, reason: 'InternalError', message: 'boom' });
    expect(isNetworkError(new TypeError('fetch failed'))).toBe(true);
    expect(isNetworkError(e)).toBe(false);
  });

  it("classifies undici request()'s own errors: a failed connection or a cut-off request is a network error, a bad argument is not", () => {
    // kube-client.ts sends through request(), which throws these unwrapped (fetch wrapped them in "fetch failed").
    expect(isNetworkError(new undiciErrors.HeadersTimeoutError())).toBe(true);
    expect(isNetworkError(new undiciErrors.BodyTimeoutError())).toBe(true);
    expect(isNetworkError(new undiciErrors.ConnectTimeoutError())).toBe(true);
    expect(isNetworkError(new undiciErrors.ClientDestroyedError())).toBe(true);
    expect(isNetworkError(new undiciErrors.RequestAbortedError())).toBe(true);
    expect(isNetworkError(new undiciErrors.InformationalError('HTTP/2: "GOAWAY" frame received with code 0'))).toBe(true);
    expect(isNetworkError(new undiciErrors.InvalidArgumentError('invalid method'))).toBe(false);
    expect(isNetworkError(new undiciErrors.ResponseExceededMaxSizeError())).toBe(false);
  });
});

describe('misc', () => {
  it('backoff doubles to the cap, with jitter, and resets after a healthy run', () => {
    const b = new Backoff({ initialMs: 800, maxMs: 30_000, jitter: 0, resetAfterMs: 120_000 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000]);
    b.noteRunEnded(0, 60_000);
    expect(b.next()).toBe(30_000);
    b.noteRunEnded(0, 120_000);
    expect(b.next()).toBe(800);
    const j = new Backoff({ jitter: 0.5, random: () => 0.999 });
    expect(j.next()).toBeGreaterThan(800);
    expect(j.next()).toBeLessThanOrEqual(2400);
  });
  it('paths and keys', () => {
    expect(resourcePath({ group: '', version: 'v1', plural: 'configmaps' }, 'ns', 'a')).toBe('/api/v1/namespaces/ns/configmaps/a');
    expect(resourcePath({ group: 'x.dev', version: 'v1', plural: 'widgets' }, undefined)).toBe('/apis/x.dev/v1/widgets');
    expect(resourcePath({ group: 'x.dev', version: 'v1', plural: 'w' }, 'n', 'a', 'status')).toBe('/apis/x.dev/v1/namespaces/n/w/a/status');
    expect(objectKey({ metadata: { namespace: 'n', name: 'a' } })).toBe('n/a');
    expect(objectKey({ metadata: { name: 'a' } })).toBe('a');
    expect(splitKey('n/a')).toEqual({ namespace: 'n', name: 'a' });
    expect(splitKey('a')).toEqual({ namespace: undefined, name: 'a' });
    expect(microTime(T0 + 123)).toBe('2026-01-01T00:00:00.123000Z');
  });
});

describe('logging and probes (no I/O)', () => {
  it('redacts secret-looking fields', async () => {
    const { createLogger } = await import('./logging.ts');
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    log.info(
      {
        token: 't',
        provider: { password: 'p', accessKeySecret: 'a', auth: { secretKey: 's' } },
        headers: { authorization: 'Bearer x', 'x-auth-token': 'y' },
        keep: 'visible',
      },
      'msg',
    );
    const out = lines.join('');
    for (const secret of ['"t"', '"p"', '"a"', '"s"', 'Bearer x', '"y"']) expect(out).not.toContain(secret);
    expect(out).toContain('visible');
    expect(out).toContain('[REDACTED]');
    expect(JSON.parse(out)).toMatchObject({ level: 'info', msg: 'msg' });
  });

  it('a lazy child logger writes the bindings like child() and is only made when something is logged', async () => {
    const { createLogger, lazyChild } = await import('./logging.ts');
    const lines: string[] = [];
    const parent = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    const made = vi.spyOn(parent, 'child');
    const quiet = lazyChild(parent, { name: 'a', reconcileID: 'r1' });
    quiet.debug({ x: 1 }, 'below the level');
    expect(made).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    const used = lazyChild(parent, { name: 'b', reconcileID: 'r2', token: 'hidden' });
    used.info({ step: 'create' }, 'created');
    used.warn('twice');
    expect(made).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { level: 'info', name: 'b', reconcileID: 'r2', step: 'create', msg: 'created', token: '[REDACTED]' },
      { level: 'warn', name: 'b', reconcileID: 'r2', msg: 'twice' },
    ]);
    expect(used.level).toBe('info');
    expect(used.bindings()).toMatchObject({ name: 'b', reconcileID: 'r2' });
  });

  it('named checks: failing, throwing and passing', async () => {
    const { ProbeServer } = await import('./server.ts');
    const s = new ProbeServer();
    let synced = false;
    s.addReadyCheck('informers-synced', () => synced);
    s.addReadyCheck('boom', () => {
      throw new Error('kaput');
    });
    let r = await s.runChecks('readyz');
    expect(r.ok).toBe(false);
    expect(r.lines).toContain('[-]informers-synced failed: not ready');
    expect(r.lines).toContain('[-]boom failed: kaput');
    synced = true;
    r = await s.runChecks('readyz', 'informers-synced');
    expect(r).toEqual({ ok: true, lines: ['[+]informers-synced ok'] });
    expect((await s.runChecks('healthz')).ok).toBe(true);
    expect((await s.runChecks('readyz', 'nope')).ok).toBe(false);
  });
});
