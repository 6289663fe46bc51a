// The Argo CD health check (config/argocd/health.lua) run by the real Lua 5.1 interpreter over every
// case of config/argocd/health_test.yaml (Argo CD's upstream test format), in Argo CD's restricted
// library environment; plus the two ways it reaches argocd-cm (kustomize Component, Helm ConfigMap).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { CHART_DIR, ensureHelm, find, helmRunner, must, parseDocs, run } from './helpers.ts';

beforeAll(() => ensureHelm(), 2_400_000);

const ARGOCD = join(repoRoot, 'config', 'argocd');
const HEALTH = join(ARGOCD, 'health.lua');
const HARNESS = join(import.meta.dirname, 'health-harness.lua');
const KEY = 'resource.customizations.health.stackoperator.dev_Stack';

/** A JSON-like value as a Lua table constructor (null -> nil, as Argo CD's conversion does). */
export function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v).replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => `\\${parseInt(h, 16)}`);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => `[${toLua(k)}] = ${toLua(x)}`)
      .join(', ')}}`;
  }
  throw new Error(`cannot convert ${typeof v} to Lua`);
}

let lua = '';
let tmp = '';
beforeAll(() => {
  // Installs Debian's lua5.1 when it is missing (idempotent), and prints the interpreter's path.
  const out = execFileSync('bash', [join(import.meta.dirname, 'install-lua.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  lua = out.trim().split('\n').pop() ?? '';
  expect(lua).toMatch(/lua/);
  tmp = mkdtempSync(join(tmpdir(), 'so-health-'));
}, 320_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function health(obj: unknown, script = HEALTH): Promise<{ status: string; message?: string }> {
  const file = join(tmp, `obj-${Math.random().toString(16).slice(2)}.lua`);
  writeFileSync(file, `return ${toLua(obj)}\n`);
  const r = await run(lua, [HARNESS, script, file], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`lua exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: string; message?: string };
}

interface HealthTest {
  tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
}
const cases = (parse(readFileSync(join(ARGOCD, 'health_test.yaml'), 'utf8')) as HealthTest).tests;
const providerCases = (parse(readFileSync(join(ARGOCD, 'provider_health_test.yaml'), 'utf8')) as HealthTest).tests;
const PROVIDER_HEALTH = join(ARGOCD, 'provider-health.lua');

describe('config/argocd/health.lua under Lua 5.1 (Argo CD health_test.yaml cases)', () => {
  it('covers every state: Healthy, Progressing, Degraded, Suspended', () => {
    expect(new Set(cases.map((c) => c.healthStatus.status))).toEqual(new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended']));
  });

  it.each(cases.map((c) => [c.inputPath, c.healthStatus] as const))('%s -> %o', async (inputPath, want) => {
    const obj = parse(readFileSync(join(ARGOCD, inputPath), 'utf8')) as unknown;
    expect(await health(obj)).toEqual(want);
  });

  it('the harness enforces Argo CD\'s library set: a script that calls string.* fails', async () => {
    const bad = join(tmp, 'bad.lua');
    writeFileSync(bad, 'local hs = {}\nhs.status = string.upper("healthy")\nreturn hs\n');
    await expect(health({ metadata: { name: 'x' } }, bad)).rejects.toThrow(/string/);
  });

  it('an object without metadata.generation still gets a verdict', async () => {
    const obj = parse(readFileSync(join(ARGOCD, 'testdata', 'ready.yaml'), 'utf8')) as { metadata: Record<string, unknown> };
    delete obj.metadata.generation;
    expect((await health(obj)).status).toBe('Healthy');
  });
});

describe('config/argocd/provider-health.lua under Lua 5.1 (StackProvider / ClusterStackProvider)', () => {
  it('covers Healthy, Progressing and Degraded', () => {
    expect(new Set(providerCases.map((c) => c.healthStatus.status))).toEqual(new Set(['Healthy', 'Progressing', 'Degraded']));
  });

  it.each(providerCases.map((c) => [c.inputPath, c.healthStatus] as const))('%s -> %o', async (inputPath, want) => {
    const obj = parse(readFileSync(join(ARGOCD, inputPath), 'utf8')) as unknown;
    expect(await health(obj, PROVIDER_HEALTH)).toEqual(want);
  });
});

describe('delivering the health check to argocd-cm', () => {
  it('the kustomize Component merges health.lua, verbatim, into an existing argocd-cm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'so-argocd-kz-'));
    try {
      writeFileSync(
        join(dir, 'argocd-cm.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: https://argocd.example.com\n',
      );
      writeFileSync(join(dir, 'kustomization.yaml'), `resources: [argocd-cm.yaml]\ncomponents: [${relative(dir, ARGOCD)}]\n`);
      const out = must(await kubectl(['kustomize', dir]), 'kubectl kustomize');
      const cm = find(parseDocs(out), 'ConfigMap', 'argocd-cm') as unknown as { metadata: { namespace: string }; data: Record<string, string> };
      expect(cm.metadata.namespace).toBe('argocd');
      expect(cm.data.url).toBe('https://argocd.example.com');
      expect(cm.data[KEY]).toBe(readFileSync(HEALTH, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the chart renders the same script behind argocd.healthCheck.enabled (off by default)', async () => {
    const helm = helmRunner('/dev/null');
    const off = parseDocs(must(await helm(['template', 'so', CHART_DIR, '-n', 'stack-operator']), 'helm template'));
    expect(off.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    const on = parseDocs(must(await helm(['template', 'so', CHART_DIR, '-n', 'stack-operator', '--set', 'argocd.healthCheck.enabled=true']), 'helm template'));
    const cm = find(on, 'ConfigMap', 'so-stack-operator-argocd-health-check') as unknown as { data: Record<string, string> };
    expect(cm.data[KEY]).toBe(readFileSync(HEALTH, 'utf8'));
    // Provider health and the Stack's actions too (test/e2e/argocd checks the whole data equals the
    // kustomize Component's and runs it in a real Argo CD).
    expect(cm.data['resource.customizations.health.stackoperator.dev_StackProvider']).toBe(readFileSync(PROVIDER_HEALTH, 'utf8'));
    expect(cm.data['resource.customizations.health.stackoperator.dev_ClusterStackProvider']).toBe(readFileSync(PROVIDER_HEALTH, 'utf8'));
    expect(cm.data['resource.customizations.actions.stackoperator.dev_Stack']).toBe(readFileSync(join(ARGOCD, 'actions.yaml'), 'utf8'));
  });
});
