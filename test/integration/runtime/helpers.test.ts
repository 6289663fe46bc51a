// Status, finalizer and event helpers against the real apiserver (test CRD Widget with /status).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCondition } from '../../../src/runtime/conditions.ts';
import { ConflictError, isNotFound } from '../../../src/runtime/errors.ts';
import { EVENTS_RESOURCE, EventRecorder } from '../../../src/runtime/events.ts';
import { addFinalizer, removeFinalizer } from '../../../src/runtime/finalizers.ts';
import { KubeClient, type KubeObject } from '../../../src/runtime/kube-client.ts';
import { patchStatus } from '../../../src/runtime/status.ts';
import { deleteNamespace, testKubeConfig, uniqueNamespace } from '../../env/kube.ts';
import { WIDGETS, ensureWidgetCrd, waitFor } from './util.ts';

const client = new KubeClient(testKubeConfig());
let ns = '';
type Widget = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

beforeAll(async () => {
  await ensureWidgetCrd(client);
  ns = await uniqueNamespace('rt-help');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

const widget = (name: string): Widget => ({ apiVersion: `${WIDGETS.group}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec: { size: 1 } });

describe('status / finalizers / events on a real apiserver', () => {
  it('patchStatus writes only through /status, with a resourceVersion precondition', async () => {
    const w = await client.create<Widget>(WIDGETS, ns, widget('s1'));
    const conditions = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Done', message: 'ok', observedGeneration: w.metadata.generation });
    const updated = await patchStatus<Widget>(client, WIDGETS, { namespace: ns, name: 's1', resourceVersion: w.metadata.resourceVersion ?? '' }, {
      observedGeneration: w.metadata.generation,
      conditions,
    });
    expect(updated.status).toMatchObject({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] });
    expect(updated.metadata.generation).toBe(1); // status writes do not bump generation
    // Stale resourceVersion → ConflictError.
    await expect(
      patchStatus(client, WIDGETS, { namespace: ns, name: 's1', resourceVersion: w.metadata.resourceVersion ?? '' }, { phase: 'stale' }),
    ).rejects.toBeInstanceOf(ConflictError);
    // A spec change in the status body is ignored by /status.
    const again = await patchStatus<Widget>(client, WIDGETS, { namespace: ns, name: 's1', resourceVersion: null }, { phase: 'x' });
    expect(again.status?.phase).toBe('x');
  });

  it('adds and removes a finalizer with test-guarded JSON patches; concurrent edits conflict', async () => {
    const F = 'runtime-test.stackoperator.dev/finalizer';
    const w = await client.create<Widget>(WIDGETS, ns, widget('f1'));
    const withF = await addFinalizer(client, WIDGETS, w, F);
    expect(withF.metadata.finalizers).toEqual([F]);
    expect(await addFinalizer(client, WIDGETS, withF, F)).toBe(withF); // no-op, no request
    // Someone else adds one: our stale copy's patch must fail, not clobber it.
    await client.patch(WIDGETS, ns, 'f1', [{ op: 'add', path: '/metadata/finalizers/-', value: 'other.dev/f' }], { contentType: 'application/json-patch+json' });
    await expect(addFinalizer(client, WIDGETS, w, 'third.dev/f')).rejects.toBeInstanceOf(ConflictError);
    const fresh = await client.get<Widget>(WIDGETS, ns, 'f1');
    expect(fresh.metadata.finalizers).toEqual([F, 'other.dev/f']);
    // Remove with a stale index → conflict; with the fresh object → ok.
    const reordered = await client.patch<Widget>(WIDGETS, ns, 'f1', { metadata: { finalizers: ['other.dev/f', F] } }, { contentType: 'application/merge-patch+json' });
    await expect(removeFinalizer(client, WIDGETS, fresh, F)).rejects.toBeInstanceOf(ConflictError);
    const removed = await removeFinalizer(client, WIDGETS, reordered, F);
    expect(removed?.metadata.finalizers).toEqual(['other.dev/f']);
    // Deletion waits for the last finalizer; removing it lets the object go (removeFinalizer → undefined or object).
    await client.delete(WIDGETS, ns, 'f1');
    const deleting = await client.get<Widget>(WIDGETS, ns, 'f1');
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    await removeFinalizer(client, WIDGETS, deleting, 'other.dev/f');
    await waitFor('gone', async () => {
      try {
        await client.get(WIDGETS, ns, 'f1');
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    });
  });

  it('records events.k8s.io/v1 Events and aggregates repeats into a series', async () => {
    const w = await client.create<Widget>(WIDGETS, ns, widget('e1'));
    const rec = new EventRecorder(client, { reportingController: 'runtime-test.stackoperator.dev/test', reportingInstance: 'test-1' });
    for (let i = 0; i < 3; i++) await rec.publish(w, { type: 'Warning', reason: 'SyncFailed', action: 'Sync', note: 'quota exceeded' });
    await rec.publish(w, { type: 'Normal', reason: 'Synced', action: 'Sync', note: 'done' });
    const list = await client.list<KubeObject & { reason?: string; series?: { count: number; lastObservedTime: string }; regarding?: { uid?: string } }>(EVENTS_RESOURCE, ns);
    const mine = list.items.filter((e) => e.regarding?.uid === w.metadata.uid);
    expect(mine.length).toBe(2);
    const failed = mine.find((e) => e.reason === 'SyncFailed');
    expect(failed?.series?.count).toBe(3);
    expect(failed?.series?.lastObservedTime).toBeDefined();
  });
});
