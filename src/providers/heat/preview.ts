// Heat's previews, normalized (docs/plan-approve.md): the stack preview (POST /stacks/preview) lists
// every resource the create would make; the update preview (PUT|PATCH /stacks/{name}/{id}/preview)
// groups resources as added / updated / replaced / deleted / unchanged (docs/providers.md).
import { isRecord, str } from '../common.ts';
import { ProviderError, type PlannedAction, type PlannedChange, type StackPreview } from '../types.ts';

const UPDATE_GROUPS: [string, PlannedAction][] = [
  ['added', 'Add'],
  ['updated', 'Change'],
  ['replaced', 'Replace'],
  ['deleted', 'Remove'],
];

function change(r: unknown, action: PlannedAction): PlannedChange[] {
  // A nested stack's resources come as a list in its parent's place: take them all.
  if (Array.isArray(r)) return r.flatMap((x) => change(x, action));
  if (!isRecord(r)) return [];
  const name = str(r['resource_name']) ?? str(r['logical_resource_id']);
  return name ? [{ name, type: str(r['resource_type']) ?? '', action }] : [];
}

function badResponse(what: string): ProviderError {
  return new ProviderError('Transient', `heat: ${what} returned no ${what === 'stack preview' ? 'stack' : 'resource_changes'} object`, { code: 'BadResponse' });
}

/** The create preview: every resource is added. */
export function heatCreatePreview(body: unknown): StackPreview {
  const stack = isRecord(body) && isRecord(body['stack']) ? body['stack'] : undefined;
  if (!stack) throw badResponse('stack preview');
  const resources = Array.isArray(stack['resources']) ? stack['resources'] : [];
  return { changes: resources.flatMap((r) => change(r, 'Add')) };
}

/** The update preview: unchanged resources are left out. */
export function heatUpdatePreview(body: unknown): StackPreview {
  const groups = isRecord(body) && isRecord(body['resource_changes']) ? body['resource_changes'] : undefined;
  if (!groups) throw badResponse('update preview');
  return { changes: UPDATE_GROUPS.flatMap(([key, action]) => (Array.isArray(groups[key]) ? groups[key].flatMap((r) => change(r, action)) : [])) };
}
