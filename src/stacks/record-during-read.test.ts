// The pure parts of writing a record during the read: which Stacks and Steps qualify, what is kept of a
// view, and that a Step planned on the kept view equals the Step of an unchanged new read (else the early
// record would never be used). Pure: no I/O. The wiring (a real API server, the emulator holding a read)
// is tested in test/integration/stacks/record-during-read.test.ts.
import { describe, expect, it } from 'vitest';
import { jsonEqual } from '../lib/canonical-json.ts';
import type { StackView } from '../providers/types.ts';
import type { StackObject } from './context.ts';
import { appliedOld, found, input, stack, view } from './plan/fixtures.test-util.ts';
import { plan } from './plan/index.ts';
import { LastViews, mayRecordDuringRead, recordable } from './record-during-read.ts';

const obj = (s: ReturnType<typeof stack>): StackObject => s as StackObject;
/** A Ready Stack whose spec changed: generation 2, generation 1 observed. */
const changed = () => obj(stack({ status: { ...appliedOld, observedGeneration: 1 } }));
const fresh: StackView = view('Complete', 'update', { outputs: [{ key: 'url', value: 'http://x' }], parameters: { a: '1' }, tags: { t: 'v' } });

describe('LastViews', () => {
  it('keeps a view without outputs, parameters and tags, for the Stack with that UID only', () => {
    const views = new LastViews();
    const s = changed();
    views.remember(s, fresh);
    const kept = views.get(s);
    expect(kept).toBeDefined();
    expect(kept?.outputs).toBeUndefined();
    expect(kept?.parameters).toBeUndefined();
    expect(kept?.tags).toBeUndefined();
    expect(kept?.updatedAt).toBe(fresh.updatedAt);
    expect(views.get(obj({ ...s, metadata: { ...s.metadata, uid: 'another' } }))).toBeUndefined();
    views.remember(s, undefined);
    expect(views.get(s)).toBeUndefined();
    views.remember(s, fresh);
    views.forget('ns/web');
    expect(views.size).toBe(0);
  });
});

describe('mayRecordDuringRead', () => {
  it('only a changed spec with nothing in flight, not being deleted', () => {
    expect(mayRecordDuringRead(changed())).toBe(true);
    expect(mayRecordDuringRead(obj(stack({ status: { ...appliedOld, observedGeneration: 2 } })))).toBe(false);
    expect(mayRecordDuringRead(obj(stack({ status: { ...appliedOld, observedGeneration: 1 }, deleting: true })))).toBe(false);
    const inFlight = obj(stack({ status: { ...appliedOld, observedGeneration: 1, operation: { type: 'Update', generation: 1, token: 't', startedAt: '2026-11-22T11:00:00Z' } } }));
    expect(mayRecordDuringRead(inFlight)).toBe(false);
    expect(mayRecordDuringRead(obj(stack()))).toBe(false);
  });
});

describe('a Step planned on the kept view', () => {
  it('starts an update with a marked record, and is the Step an unchanged new read gives (so its call may go out)', () => {
    const s = changed();
    const views = new LastViews();
    views.remember(s, fresh);
    const early = plan(input(s, found(views.get(s) as StackView), { recordDuringRead: true }));
    expect(recordable(early)).toBe(true);
    expect(early.status.operation).toMatchObject({ type: 'Update', recordedDuringRead: true, observedUpdatedAt: fresh.updatedAt, observedOperation: 'update' });
    const after = plan(input(s, found(fresh), { recordDuringRead: true }));
    expect(jsonEqual(after, early)).toBe(true);
  });

  it('differs from the Step of a new read that shows a change made outside (the early record is then replaced)', () => {
    const s = changed();
    const early = plan(input(s, found(view('Complete', 'update')), { recordDuringRead: true }));
    const outside = plan(input(s, found(view('Complete', 'update', { updatedAt: '2026-11-22T11:30:00Z' })), { recordDuringRead: true }));
    expect(jsonEqual(outside, early)).toBe(false);
    const running = plan(input(s, found(view('InProgress', 'update')), { recordDuringRead: true }));
    expect(recordable(running)).toBe(false);
  });

  it('an unmarked plan (the usual order) writes no marker; a resync or a status-only Step is not recordable', () => {
    const s = changed();
    const usual = plan(input(s, found(fresh)));
    expect(usual.action.type).toBe('update');
    expect(usual.status.operation?.recordedDuringRead).toBeUndefined();
    expect(recordable(usual)).toBe(false);
    const atRest = plan(input(obj(stack({ status: { ...appliedOld, lastAppliedHash: 'hash-new', observedGeneration: 2 } })), found(fresh), { recordDuringRead: true }));
    expect(recordable(atRest)).toBe(false);
  });
});
