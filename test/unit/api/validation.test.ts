import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { formatIssues, validateProvider, validateStack } from '../../../src/api/v1alpha1/validation.ts';

const samplesDir = join(import.meta.dirname, '..', '..', '..', 'config', 'samples');

function samples(): { kind: string; obj: unknown; file: string }[] {
  const out: { kind: string; obj: unknown; file: string }[] = [];
  for (const f of readdirSync(samplesDir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(samplesDir, f), 'utf8'))) {
      const obj = doc.toJS() as { kind: string };
      out.push({ kind: obj.kind, obj, file: f });
    }
  }
  return out;
}

const stack = (spec: Record<string, unknown>) => ({
  apiVersion: 'stackoperator.dev/v1alpha1',
  kind: 'Stack',
  metadata: { name: 's' },
  spec: { providerRef: { name: 'p' }, template: { inline: {} }, ...spec },
});

describe('ajv validation against the CRD schemas', () => {
  it('accepts every sample in config/samples', () => {
    const all = samples();
    expect(all.filter((s) => s.kind === 'Stack').length).toBeGreaterThanOrEqual(4);
    for (const s of all) {
      const issues =
        s.kind === 'Stack'
          ? validateStack(s.obj)
          : s.kind === 'StackProvider'
            ? validateProvider(s.obj, false)
            : s.kind === 'ClusterStackProvider'
              ? validateProvider(s.obj, true)
              : [];
      expect(issues, `${s.file}: ${formatIssues(issues)}`).toEqual([]);
    }
  });

  it.each([
    [{ timeoutMinutes: 0 }, 'spec.timeoutMinutes'],
    [{ timeoutMinutes: 100000 }, 'spec.timeoutMinutes'],
    [{ deletionPolicy: 'Destroy' }, 'spec.deletionPolicy'],
    [{ updatePolicy: { cancelMode: 'Sometimes' } }, 'spec.updatePolicy.cancelMode'],
    [{ stackName: '9lives' }, 'spec.stackName'],
    [{ parameters: { a: 1 } }, 'spec.parameters.a'],
    [{ tags: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i}`, 'v'])) }, 'spec.tags'],
  ])('rejects %j naming %s', (spec, field) => {
    const issues = validateStack(stack(spec));
    expect(issues.map((i) => i.field)).toContain(field);
  });

  it('requires a credentials Secret namespace on a ClusterStackProvider only', () => {
    const p = (cluster: boolean) => ({
      apiVersion: 'stackoperator.dev/v1alpha1',
      kind: cluster ? 'ClusterStackProvider' : 'StackProvider',
      metadata: { name: 'p' },
      spec: { heat: { authUrl: 'http://k/v3', credentialsSecretRef: { name: 'c' } } },
    });
    expect(validateProvider(p(false), false)).toEqual([]);
    expect(validateProvider(p(true), true).map((i) => i.field)).toContain('spec.heat.credentialsSecretRef.namespace');
  });
});
