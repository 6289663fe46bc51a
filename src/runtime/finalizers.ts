// Finalizer helpers: JSON Patch guarded by a `test` op (kube-rs `finalizer`), so a concurrent
// editor of metadata.finalizers makes our patch fail instead of being clobbered.
//
// - add: list absent → test null + add [f]; else test the whole current list + append.
// - remove: test `/metadata/finalizers/i` == f + remove i.
// A failed test (the apiserver answers 422, sometimes 409) is surfaced as ConflictError: requeue;
// the next reconcile sees the fresh object. Adding a finalizer to an object being deleted is
// refused by the apiserver ("no new finalizers can be added if the object is being deleted"):
// add it before any external create.
import { ConflictError, isConflict, isInvalid, isNotFound } from './errors.ts';
import { JSON_PATCH, type KubeClient, type KubeObject, type ResourceRef } from './kube-client.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/** JSON Patch operations that add `finalizer` to `obj` (empty when present). */
export function addFinalizerPatch(obj: KubeObject, finalizer: string): unknown[] {
  const current = obj.metadata.finalizers;
  if (current?.includes(finalizer)) return [];
  if (!current || current.length === 0) {
    return [
      { op: 'test', path: '/metadata/finalizers', value: current ?? null },
      { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: current },
    { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
  ];
}

/** JSON Patch operations that remove `finalizer` from `obj` (empty when absent). */
export function removeFinalizerPatch(obj: KubeObject, finalizer: string): unknown[] {
  const i = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
  if (i < 0) return [];
  return [
    { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}

async function apply<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceRef,
  obj: T,
  ops: unknown[],
  what: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  try {
    return await client.patch<T>(resource, obj.metadata.namespace, obj.metadata.name ?? '', ops, { contentType: JSON_PATCH, signal });
  } catch (err) {
    if (isInvalid(err) || isConflict(err)) {
      throw new ConflictError(`${what} on ${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}: finalizers changed concurrently`, err);
    }
    throw err;
  }
}

/**
 * Adds the finalizer (no request if present). Returns the patched object, or `obj` unchanged.
 * Throws ConflictError if the list changed since `obj` was read.
 */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceRef,
  obj: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T> {
  const ops = addFinalizerPatch(obj, finalizer);
  if (ops.length === 0) return obj;
  return (await apply(client, resource, obj, ops, 'adding finalizer', signal)) ?? obj;
}

/**
 * Removes the finalizer (no request if absent). Returns the patched object, or undefined when the
 * object is gone (it was only waiting for us). Throws ConflictError on a concurrent change.
 */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceRef,
  obj: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const ops = removeFinalizerPatch(obj, finalizer);
  if (ops.length === 0) return obj;
  try {
    return await apply(client, resource, obj, ops, 'removing finalizer', signal);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
