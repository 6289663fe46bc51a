// Heat's preview bodies, normalized (docs/plan-approve.md). The shapes are what real Heat answers
// (docs/real-heat.md §4, item 9: the update groups come wrapped in resource_changes), checked by
// test/e2e/heat/scenarios.ts (preview-create, preview-update). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../types.ts';
import { heatCreatePreview, heatUpdatePreview } from './preview.ts';

const res = (name: string, type = 'OS::Heat::TestResource') => ({ resource_name: name, resource_type: type, resource_action: 'INIT', resource_status: 'COMPLETE' });

describe('heat previews', () => {
  it('a create preview adds every resource, nested stacks\' resources (lists) included', () => {
    const body = { stack: { id: 'None', stack_name: 'web', resources: [res('a'), [res('n1'), [res('n2', 'OS::Nova::Server')]]] } };
    expect(heatCreatePreview(body).changes).toEqual([
      { name: 'a', type: 'OS::Heat::TestResource', action: 'Add' },
      { name: 'n1', type: 'OS::Heat::TestResource', action: 'Add' },
      { name: 'n2', type: 'OS::Nova::Server', action: 'Add' },
    ]);
  });

  it('an update preview maps added / updated / replaced / deleted and leaves unchanged out', () => {
    const body = { resource_changes: { added: [res('n')], updated: [res('u')], replaced: [res('r')], deleted: [res('d')], unchanged: [res('same')] } };
    expect(heatUpdatePreview(body).changes.map((c) => `${c.action} ${c.name}`)).toEqual(['Add n', 'Change u', 'Replace r', 'Remove d']);
  });

  it('a body without the expected object is a transient provider error, never an empty plan', () => {
    expect(() => heatUpdatePreview({ unchanged: [] })).toThrow(ProviderError);
    expect(() => heatCreatePreview({})).toThrow(/stack preview/);
  });
});
