// ROS stack policies on UpdateStack (API reference "UpdateStack", seed 004: StackPolicyBody /
// StackPolicyURL, StackPolicyDuringUpdateBody / StackPolicyDuringUpdateURL, error
// StackPolicyValidationFailed "Action denied by stack policy: {reason}."). Once a stack has a policy,
// an update action on a resource is denied unless a statement allows it and none denies it.
import type { Template } from '../engine/template.ts';

type UpdateAction = 'Update:Modify' | 'Update:Replace' | 'Update:Delete';

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}

function list(v: unknown): string[] {
  const items: unknown[] = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return items.filter((x): x is string => typeof x === 'string');
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(value);
}

function matches(st: Statement, action: UpdateAction, resource: string): boolean {
  if (!list(st.Action).some((a) => glob(a, action))) return false;
  const target = `LogicalResourceId/${resource}`;
  if (st.NotResource !== undefined) return !list(st.NotResource).some((r) => glob(r, target));
  return list(st.Resource).some((r) => glob(r, target));
}

/** The statements of a policy document, or an error message when it is not one. */
export function parsePolicy(body: string): Statement[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return 'the stack policy is not valid JSON';
  }
  const sts = (doc as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(sts)) return 'the stack policy has no Statement list';
  return sts as Statement[];
}

function mentions(v: unknown, params: Set<string>): boolean {
  if (typeof v === 'string') return [...params].some((p) => v.includes(`\${${p}}`));
  if (Array.isArray(v)) return v.some((x) => mentions(x, params));
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && params.has(o.Ref)) return true;
    return Object.values(o).some((x) => mentions(x, params));
  }
  return false;
}

/** The update action each existing resource would undergo. */
export function plannedActions(oldT: Template, oldP: Record<string, unknown>, newT: Template, newP: Record<string, unknown>): [string, UpdateAction][] {
  const changed = new Set([...new Set([...Object.keys(oldP), ...Object.keys(newP)])].filter((k) => JSON.stringify(oldP[k]) !== JSON.stringify(newP[k])));
  const out: [string, UpdateAction][] = [];
  for (const [name, def] of Object.entries(oldT.resources)) {
    const next = newT.resources[name];
    if (!next) out.push([name, 'Update:Delete']);
    else if (next.type !== def.type) out.push([name, 'Update:Replace']);
    else if (JSON.stringify(next.properties) !== JSON.stringify(def.properties) || mentions(next.properties, changed)) out.push([name, 'Update:Modify']);
  }
  return out;
}

/** The first denied action as "Update:Modify on LogicalResourceId/R", or undefined when all are allowed. */
export function deniedAction(statements: Statement[], actions: [string, UpdateAction][]): string | undefined {
  for (const [resource, action] of actions) {
    const hits = statements.filter((st) => matches(st, action, resource));
    const allowed = hits.some((st) => st.Effect === 'Allow') && !hits.some((st) => st.Effect === 'Deny');
    if (!allowed) return `${action} on LogicalResourceId/${resource}`;
  }
  return undefined;
}
