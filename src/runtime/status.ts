// Status writes through the /status subresource only.
//
// Choice: JSON merge patch of `{ metadata: { resourceVersion }, status }` (resourceVersion
// precondition), not server-side apply. Why:
// - The status we write is computed from the object we read (observedGeneration, the spec that was
//   acted on). If the object changed since, the write is stale; the precondition turns that into a
//   409, surfaced as ConflictError (transient: the informer already has the newer object and the
//   key is requeued at once). SSA with force would silently write a status computed from an old read.
// - It works for any resource without schema requirements (SSA needs list-map markers on
//   conditions to merge per type) and keeps no managedFields churn.
// - Merge patch replaces arrays wholesale: send the full `conditions` array (conditions.ts builds it).
//   `null` deletes a field.
// Callers should skip the write when status is unchanged (conditions.ts deepEqual) — a no-op
// write still costs an apiserver round-trip and an etcd write.
import { ConflictError, isConflict } from './errors.ts';
import { MERGE_PATCH, type KubeClient, type KubeObject, type ResourceRef } from './kube-client.ts';

export interface StatusTarget {
  namespace?: string;
  name: string;
  /** Precondition: the resourceVersion the status was computed from. `null` = unconditional. */
  resourceVersion: string | null;
}

/**
 * Merge-patches `status` on the /status subresource. Returns the updated object. A 409 (the object
 * changed since `resourceVersion`) throws ConflictError; 404 and others throw the ApiException.
 */
export async function patchStatus<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceRef,
  target: StatusTarget,
  status: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  const body: Record<string, unknown> = { status };
  if (target.resourceVersion !== null) body.metadata = { resourceVersion: target.resourceVersion };
  try {
    return await client.patch<T>(resource, target.namespace, target.name, body, { contentType: MERGE_PATCH, subresource: 'status', signal });
  } catch (err) {
    if (isConflict(err)) throw new ConflictError(`status of ${target.namespace ?? ''}/${target.name}: object changed since resourceVersion ${target.resourceVersion}`, err);
    throw err;
  }
}
