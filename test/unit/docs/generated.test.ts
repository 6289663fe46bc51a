// The generated documents match what `npm run generate` would write now: docs/api.md from the CRD
// schemas, and the chart README from values.yaml + values.schema.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderApiReference } from '../../../scripts/api-reference.ts';
import { renderChartReadme } from '../../../scripts/chart-readme.ts';
import { buildCrds } from '../../../src/api/v1alpha1/crds.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('generated documents', () => {
  it('docs/api.md is up to date with src/api/v1alpha1 (run `npm run generate` if this fails)', () => {
    expect(readFileSync(join(root, 'docs', 'api.md'), 'utf8')).toBe(renderApiReference());
  });

  it('docs/api.md lists every spec field of every kind', () => {
    const text = renderApiReference();
    for (const crd of buildCrds()) {
      const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
      for (const field of Object.keys(spec?.properties ?? {})) expect(text).toContain(`| \`spec.${field}\` |`);
    }
    expect(text).toContain('must be a positive duration');
  });

  it('charts/stack-operator/README.md is up to date with values.yaml and values.schema.json (run `npm run generate`)', () => {
    expect(readFileSync(join(root, 'charts', 'stack-operator', 'README.md'), 'utf8')).toBe(renderChartReadme(root));
  });

  it('the chart README documents every top-level value', () => {
    const values = readFileSync(join(root, 'charts', 'stack-operator', 'values.yaml'), 'utf8');
    const text = renderChartReadme(root);
    for (const m of values.matchAll(/^([A-Za-z]\w*):/gm)) expect(text).toMatch(new RegExp(`\\| \`${m[1]}(\\.|\`)`));
  });
});
