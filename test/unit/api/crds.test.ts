import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCrds } from '../../../src/api/v1alpha1/crds.ts';
import { renderCrdFiles } from '../../../src/api/v1alpha1/render.ts';
import type { JSONSchemaProps } from '../../../src/api/v1alpha1/schema-builders.ts';

const crdDir = join(import.meta.dirname, '..', '..', '..', 'crds');

describe('crds/', () => {
  it('is up to date with src/api/v1alpha1 (run `npm run generate` if this fails)', () => {
    const expected = renderCrdFiles();
    const onDisk = readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort();
    expect(onDisk).toEqual([...expected.keys()].sort());
    for (const [name, body] of expected) {
      expect(readFileSync(join(crdDir, name), 'utf8'), `crds/${name} is stale`).toBe(body);
    }
  });

  it('holds the three CRDs with status subresource, categories and the stk short name', () => {
    const crds = buildCrds();
    expect(crds.map((c) => c.metadata.name)).toEqual([
      'stacks.stackoperator.dev',
      'stackproviders.stackoperator.dev',
      'clusterstackproviders.stackoperator.dev',
    ]);
    for (const c of crds) {
      expect(c.spec.versions[0]?.subresources.status).toEqual({});
      expect(c.spec.names.categories).toContain('stack-operator');
    }
    expect(crds[0]?.spec.names.shortNames).toEqual(['stk']);
    expect(crds[2]?.spec.scope).toBe('Cluster');
    const columns = crds[0]?.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name);
    expect(columns).toEqual(['Stack ID', 'Status', 'Ready', 'Reason', 'Age', 'Plan', 'Plan Summary']);
    // The plan columns show with -o wide only (docs/plan-approve.md).
    const wide = crds[0]?.spec.versions[0]?.additionalPrinterColumns.filter((c) => c.priority === 1).map((c) => c.jsonPath);
    expect(wide).toEqual(['.status.plan.id', '.status.plan.summaryText']);
  });

  it('documents every field (kubectl explain prints descriptions)', () => {
    const missing: string[] = [];
    const walk = (s: JSONSchemaProps, path: string): void => {
      if (path !== '' && !path.endsWith('.metadata') && !s.description) missing.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items && s.items.type === 'object') walk(s.items, `${path}[]`);
    };
    for (const c of buildCrds()) {
      const schema = c.spec.versions[0]?.schema.openAPIV3Schema;
      if (schema) walk(schema, c.spec.names.kind);
    }
    expect(missing).toEqual([]);
  });

  it('is structural: every object either has properties, additionalProperties or preserves unknown fields', () => {
    const bad: string[] = [];
    const walk = (s: JSONSchemaProps, path: string): void => {
      if (s.type === 'object' && !s.properties && !s.additionalProperties && !s['x-kubernetes-preserve-unknown-fields']) {
        if (!path.endsWith('.metadata')) bad.push(path);
      }
      if (!s.type && !s['x-kubernetes-preserve-unknown-fields']) bad.push(`${path} (no type)`);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    for (const c of buildCrds()) {
      const schema = c.spec.versions[0]?.schema.openAPIV3Schema;
      if (schema) walk(schema, c.spec.names.kind);
    }
    expect(bad).toEqual([]);
  });

  it('carries the CEL rules the contract names', () => {
    const text = [...renderCrdFiles().values()].join('\n');
    const docs = [...renderCrdFiles().entries()].filter(([n]) => n !== 'kustomization.yaml').map(([, b]) => parse(b) as unknown);
    expect(docs).toHaveLength(3);
    // template: exactly one source via oneOf (CEL cannot see the untyped `inline`), size via maxLength.
    expect(text).toContain('oneOf');
    expect(text).toContain('maxLength: 524288');
    for (const rule of [
      'spec.stackName is immutable',
      'rateLimit.qps must be at least 0.01',
      'exactly one of spec.heat, spec.rfs, spec.ros or spec.cloudFoundry must be set',
      'providerRef is immutable',
      'the provider type cannot change',
    ]) {
      expect(text).toContain(rule);
    }
  });
});
