import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StackObject } from './context.ts';
import { stackCacheView } from './operator.ts';
import { MAX_TEMPLATE_BYTES } from '../api/v1alpha1/schemas.ts';
import { MAX_TEMPLATE_DEPTH, type ResolveReader, resolveDesired } from './resolve.ts';

const reader: ResolveReader = { secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined), namespaceLabels: () => Promise.resolve({}) };
const template = { heat_template_version: '2021-02-26', resources: { b: { type: 'OS::Heat::None' }, a: { type: 'OS::Heat::RandomString', properties: { length: 8 } } } };

/** A Stack as the API server sends it (a plain object), and as the Stack cache keeps it (the template as text). */
const plain = (inline: unknown = template, parameters: Record<string, string> = { size: 'm1.small' }): StackObject =>
  JSON.parse(
    JSON.stringify({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: 'Stack',
      metadata: { name: 's', namespace: 'ns', uid: 'u', generation: 1 },
      spec: { providerRef: { name: 'p' }, template: { inline }, parameters },
    }),
  ) as StackObject;
const cached = (inline?: unknown, parameters?: Record<string, string>): StackObject => stackCacheView(plain(inline, parameters));

async function resolved(stack: StackObject): Promise<{ hash: string; template: unknown }> {
  const r = await resolveDesired(stack, 'heat', reader);
  if (!('ok' in r)) throw new Error(r.error.message);
  return { hash: r.ok.hash, template: r.ok.input.template };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the desired state of a Stack whose template the cache keeps as text', () => {
  it('has the hash and template of the same Stack as a plain object', async () => {
    const a = await resolved(plain());
    const b = await resolved(cached());
    expect(b.hash).toBe(a.hash);
    expect(b.template).toEqual(template);
  });

  it('parses nothing on a second reconcile of the same cached object (a resync), and the same hash comes back', async () => {
    const stack = cached();
    const first = await resolveDesired(stack, 'heat', reader);
    const parse = vi.spyOn(JSON, 'parse');
    const again = await resolveDesired(stack, 'heat', reader);
    expect(parse).not.toHaveBeenCalled();
    expect('ok' in again && 'ok' in first && again.ok.hash === first.ok.hash).toBe(true);
    // The template is parsed where it is read (a create / update call): a fresh copy each time.
    const input = 'ok' in again ? again.ok.input : undefined;
    const sent = input?.template as typeof template;
    expect(parse).toHaveBeenCalledTimes(1);
    sent.resources.a.type = 'changed';
    expect(input?.template).toEqual(template);
  });

  it('parses nothing for the next event of the same generation (a status write), and follows a new generation', async () => {
    const stack = cached();
    const first = await resolveDesired(stack, 'heat', reader);
    // The API server's next copy after a status write: a new object, same uid and generation.
    const written = plain();
    written.status = { observedGeneration: 1 };
    const next = stackCacheView(written, stack);
    const parse = vi.spyOn(JSON, 'parse');
    const again = await resolveDesired(next, 'heat', reader);
    expect(parse).not.toHaveBeenCalled();
    expect('ok' in again && 'ok' in first && again.ok.hash === first.ok.hash).toBe(true);
    // A spec change comes with a new generation: the new template is read and hashed.
    const edited = plain({ ...template, description: 'edited' });
    edited.metadata.generation = 2;
    const changed = await resolved(stackCacheView(edited, next));
    expect(changed.template).toEqual({ ...template, description: 'edited' });
    expect(changed.hash).not.toBe('ok' in first ? first.ok.hash : '');
  });

  it('follows a change of the other hashed fields on the same cached template object', async () => {
    const stack = cached();
    const before = await resolved(stack);
    stack.spec.parameters = { size: 'm1.large' };
    const after = await resolved(stack);
    expect(after.hash).not.toBe(before.hash);
    expect(after.hash).toBe((await resolved(plain(template, { size: 'm1.large' }))).hash);
    stack.spec.parameters = { size: 'm1.small' };
    expect((await resolved(stack)).hash).toBe(before.hash);
  });

  it('follows an assignment of the template (the accessor is replaced by the value)', async () => {
    const stack = cached();
    const other = { heat_template_version: '2021-02-26', resources: {} };
    stack.spec.template.inline = other;
    expect((await resolved(stack)).hash).toBe((await resolved(plain(other))).hash);
  });

  it('refuses a template nested too deeply, on every reconcile, as for a plain object', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i <= MAX_TEMPLATE_DEPTH; i++) deep = { d: deep };
    const stack = cached(deep);
    for (let i = 0; i < 2; i++) {
      const r = await resolveDesired(stack, 'heat', reader);
      expect('error' in r && r.error.reason).toBe('InvalidSpec');
      expect('error' in r && r.error.message).toMatch(/more than 100 levels deep/);
    }
    const p = await resolveDesired(plain(deep), 'heat', reader);
    expect('error' in p && p.error.message).toMatch(/more than 100 levels deep/);
  });

  it('refuses a template over the size limit, on every reconcile, as for a plain object', async () => {
    const huge = { heat_template_version: '2021-02-26', description: 'x'.repeat(MAX_TEMPLATE_BYTES) };
    const stack = cached(huge);
    for (let i = 0; i < 2; i++) {
      const r = await resolveDesired(stack, 'heat', reader);
      expect('error' in r && r.error.reason).toBe('TemplateTooLarge');
    }
    const p = await resolveDesired(plain(huge), 'heat', reader);
    expect('error' in p && p.error.reason).toBe('TemplateTooLarge');
  });
});
