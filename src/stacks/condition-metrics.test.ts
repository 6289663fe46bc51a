import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/types.ts';
import { conditionSeries, providerConditionGauge, stackConditionGauge } from './condition-metrics.ts';

type Obj = { metadata: { name: string; namespace: string }; status?: { conditions?: Condition[] } };

const cond = (type: string, status: Condition['status']): Condition => ({ type, status, reason: 'R', message: '', lastTransitionTime: '' });
const obj = (name: string, conditions?: Condition[]): Obj => ({ metadata: { name, namespace: 'a' }, ...(conditions ? { status: { conditions } } : {}) });

describe('condition gauges, rendered from the caches at scrape time', () => {
  it('one series per object and condition at its current status; an object gone from the cache has none', () => {
    const cache = [obj('web', [cond('Ready', 'False'), cond('Stalled', 'True')]), obj('new')];
    const source = { list: () => cache };
    expect(conditionSeries([source])).toEqual([
      { value: 1, labels: { namespace: 'a', name: 'web', condition: 'Ready', status: 'False' } },
      { value: 1, labels: { namespace: 'a', name: 'web', condition: 'Stalled', status: 'True' } },
    ]);
    cache[0] = obj('web', [cond('Ready', 'True'), cond('Stalled', 'False')]);
    expect(conditionSeries([source]).map((v) => `${v.labels.condition}=${v.labels.status}`)).toEqual(['Ready=True', 'Stalled=False']);
    cache.splice(0, 1);
    expect(conditionSeries([source])).toEqual([]);
  });

  it('each source adds its labels (the provider kinds)', () => {
    const series = conditionSeries([
      { list: () => [obj('p', [cond('Ready', 'True')])], labels: { kind: 'StackProvider' } },
      { list: () => [{ metadata: { name: 'c' }, status: { conditions: [cond('Ready', 'False')] } }], labels: { kind: 'ClusterStackProvider' } },
    ]);
    expect(series.map((v) => v.labels)).toEqual([
      { kind: 'StackProvider', namespace: 'a', name: 'p', condition: 'Ready', status: 'True' },
      { kind: 'ClusterStackProvider', namespace: '', name: 'c', condition: 'Ready', status: 'False' },
    ]);
  });

  it('the registry renders the current cache, and the newest operator replaces an earlier registration', async () => {
    stackConditionGauge({ list: () => [obj('old', [cond('Ready', 'True')])] });
    const cache = [obj('web', [cond('Stalled', 'True')])];
    stackConditionGauge({ list: () => cache });
    providerConditionGauge([{ list: () => [obj('p', [cond('Ready', 'False')])], labels: { kind: 'StackProvider' } }]);
    const text = await register.metrics();
    expect(text).toContain('# TYPE stack_operator_stack_condition gauge');
    expect(text).toContain('stack_operator_stack_condition{namespace="a",name="web",condition="Stalled",status="True"} 1');
    expect(text).not.toContain('name="old"');
    expect(text).toContain('stack_operator_provider_condition{kind="StackProvider",namespace="a",name="p",condition="Ready",status="False"} 1');
    cache.length = 0;
    expect(await register.getSingleMetricAsString('stack_operator_stack_condition')).not.toContain('name="web"');
  });
});
