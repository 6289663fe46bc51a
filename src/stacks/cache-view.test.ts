import { describe, expect, it } from 'vitest';
import type { StackObject } from './context.ts';
import { stackCacheView } from './operator.ts';

const template = { heat_template_version: '2021-02-26', resources: { a: { type: 'OS::Heat::None', properties: { n: [1, 2.5, null, true] } } } };

const sent = (): StackObject =>
  JSON.parse(
    JSON.stringify({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'Stack',
      metadata: { name: 's', namespace: 'ns', uid: 'u', managedFields: [{ manager: 'kubectl' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } },
      spec: { providerRef: { name: 'p' }, template: { inline: template } },
    }),
  ) as StackObject;

describe('the Stack cache view', () => {
  it('reads back the inline template equal to what was sent, a fresh copy each time', () => {
    const cached = stackCacheView(sent());
    expect(cached.spec.template.inline).toEqual(template);
    const first = cached.spec.template.inline as typeof template;
    first.resources.a.type = 'changed';
    expect(cached.spec.template.inline).toEqual(template);
    // Serialised (logs, status diffs, structuredClone) like a plain object.
    expect(JSON.parse(JSON.stringify(cached.spec))).toEqual({ providerRef: { name: 'p' }, template: { inline: template } });
    expect(structuredClone(cached.spec.template)).toEqual({ inline: template });
    expect({ ...cached.spec.template }).toEqual({ inline: template });
  });

  it('drops managedFields and the last-applied copy, keeps other annotations', () => {
    const cached = stackCacheView(sent());
    expect(cached.metadata.managedFields).toBeUndefined();
    expect(cached.metadata.annotations).toEqual({ keep: 'me' });
  });

  it('an assignment replaces the kept text with the value; a string template stays a string', () => {
    const cached = stackCacheView(sent());
    cached.spec.template.inline = { other: 1 };
    expect(cached.spec.template.inline).toEqual({ other: 1 });
    const text = sent();
    text.spec.template.inline = 'heat_template_version: 2021-02-26\n';
    expect(stackCacheView(text).spec.template.inline).toBe('heat_template_version: 2021-02-26\n');
  });

  it('keeps the cached spec for an event of the same generation and uid; takes the new one otherwise', () => {
    const at = (generation: number | undefined, uid = 'u', inline: unknown = template): StackObject => {
      const o = sent();
      o.metadata.uid = uid;
      if (generation === undefined) delete o.metadata.generation;
      else o.metadata.generation = generation;
      o.spec.template.inline = inline;
      return o;
    };
    const other = { heat_template_version: '2021-02-26', resources: {} };
    const cached = stackCacheView(at(1));
    // A status write: same generation. The spec object is the cached one; metadata and status are the new object's.
    const written = at(1);
    written.metadata.resourceVersion = '2';
    written.status = { observedGeneration: 1 };
    const next = stackCacheView(written, cached);
    expect(next.spec).toBe(cached.spec);
    expect(next.metadata.resourceVersion).toBe('2');
    expect(next.status).toEqual({ observedGeneration: 1 });
    // A spec change: a new generation, the new spec.
    const edited = stackCacheView(at(2, 'u', other), next);
    expect(edited.spec).not.toBe(cached.spec);
    expect(edited.spec.template.inline).toEqual(other);
    // Deleted and created again under the same name, and edited once: another uid at the same generation.
    const third = { ...other, description: 'created again' };
    const again = stackCacheView(at(2, 'u2', third), edited);
    expect(again.spec.template.inline).toEqual(third);
    // No generation to compare (not from an API server): never shared.
    expect(stackCacheView(at(undefined, 'u', other), stackCacheView(at(undefined))).spec.template.inline).toEqual(other);
  });
});
