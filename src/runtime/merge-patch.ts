// The smallest JSON merge patch (RFC 7386) that turns `before` into `after`: unchanged fields are
// left out, removed (or undefined) fields become null, objects recurse, arrays are replaced whole.
// Returns undefined when nothing changed, so callers can skip the write entirely.
type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => equal(a[k], b[k]));
  }
  return false;
}

// Returns undefined when unchanged (`Json` is unknown, so the return type already includes it).
export function mergePatchDiff(before: Json, after: Json): Json {
  if (equal(before, after)) return undefined;
  if (!isObject(before) || !isObject(after)) return after === undefined ? null : after;
  const patch: Record<string, Json> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k];
    const b = after[k];
    if (b === undefined) {
      if (a !== undefined) patch[k] = null;
      continue;
    }
    if (a === undefined) {
      patch[k] = b;
      continue;
    }
    const d = mergePatchDiff(a, b);
    if (d !== undefined) patch[k] = d;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** Applies a merge patch (for computing the object a patch will produce). */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
