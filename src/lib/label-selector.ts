// Kubernetes label selector matching (matchLabels + matchExpressions, the apimachinery semantics):
// every requirement must hold; an empty selector matches everything. A leaf module.

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function matchesSelector(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const value = l[e.key];
    const ok =
      e.operator === 'Exists'
        ? has
        : e.operator === 'DoesNotExist'
          ? !has
          : e.operator === 'In'
            ? has && (e.values ?? []).includes(value as string)
            : !has || !(e.values ?? []).includes(value as string);
    if (!ok) return false;
  }
  return true;
}

/** The selector in kubectl's text form, for messages: `team=a,env in (prod,stage),!legacy`. */
export function selectorText(selector: Selector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const vals = `(${(e.values ?? []).join(',')})`;
    parts.push(e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} ${vals}`);
  }
  return parts.join(',') || '(everything)';
}
