// The inline template of a cached Stack, held as its JSON text, and what every reconcile needs of it.
//
// As parsed objects a realistic 4.4 KiB template takes about 2.5 times its size of heap per cached
// Stack, so the Stack cache keeps the text and parses it where it is read (docs/benchmarks.md, memory).
// Every reconcile, resyncs at rest included, checks the template (depth, size) and hashes it; the text
// only changes with the cached object, so resolve.ts does that once per text, and the template is
// parsed only where a create / update call sends it.

const texts = new WeakMap<object, string>();

/**
 * Replaces `spec.template.inline` (an object) by an accessor over its JSON text. Every reader gets a
 * fresh copy, so nothing can change the cached one; an assignment replaces the accessor with the plain
 * value (and the text is forgotten).
 */
export function inlineTemplateAsText(template: Record<string, unknown> | undefined): void {
  const inline = template?.['inline'];
  if (!template || inline === null || typeof inline !== 'object') return;
  let text: string;
  try {
    text = JSON.stringify(inline);
  } catch {
    return; // pathological nesting: kept as it is, and resolve.ts reports it
  }
  texts.set(template, text);
  Object.defineProperty(template, 'inline', {
    enumerable: true,
    configurable: true,
    get: () => JSON.parse(text) as unknown,
    set(value: unknown) {
      texts.delete(template);
      Object.defineProperty(template, 'inline', { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

/** The JSON text behind `template.inline` while it is held as text (the Stack cache's view); else undefined. */
export function inlineTemplateText(template: object): string | undefined {
  return texts.get(template);
}
