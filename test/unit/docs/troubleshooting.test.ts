// docs/troubleshooting.md has an entry (a `### \`Reason\`` heading with text under it) for every
// condition reason in src/stacks/reasons.ts, read at test time so a new reason without an entry fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REASONS } from '../../../src/stacks/reasons.ts';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'troubleshooting.md'), 'utf8');

/** Heading -> the text up to the next heading. */
function entries(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = markdown.split(/^### /m).slice(1);
  for (const part of parts) {
    const [head = '', ...body] = part.split('\n');
    const name = /^`([A-Za-z]+)`\s*$/.exec(head)?.[1];
    if (name) out.set(name, body.join('\n').split(/^#{1,3} /m)[0]?.trim() ?? '');
  }
  return out;
}

describe('docs/troubleshooting.md', () => {
  const got = entries(doc);
  it('has an entry with advice for every condition reason', () => {
    const missing = Object.values(REASONS).filter((r) => !got.has(r));
    expect(missing, 'add a "### `Reason`" entry to docs/troubleshooting.md').toEqual([]);
    const empty = Object.values(REASONS).filter((r) => (got.get(r) ?? '').length < 40);
    expect(empty).toEqual([]);
  });

  it('documents no reason that does not exist', () => {
    const known = new Set<string>(Object.values(REASONS));
    expect([...got.keys()].filter((r) => !known.has(r))).toEqual([]);
  });
});
