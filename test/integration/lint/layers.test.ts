// The layer rules of eslint.config.js (docs/architecture.md "Layers"), through ESLint's own Node API
// with the repository's config, i.e. what `npm run lint` runs: each forbidden edge is an error
// (no-restricted-imports; no-restricted-syntax for import()), each allowed edge lints clean, and
// every folder of src/ has a rule.
// The files are linted from text under a path that does not exist (nothing is written to src/); such
// a file is in no TypeScript project, so for those probe files only the type-aware rules are switched
// off (typescript-eslint's disableTypeChecked), and the layer rules apply as configured.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/devenv/paths.ts';

const eslint = new ESLint({ cwd: repoRoot, overrideConfig: [{ files: ['src/**/probe.ts'], ...tseslint.configs.disableTypeChecked }] });

/** no-restricted-imports for static imports and re-exports, no-restricted-syntax for import(). */
const LAYER_RULES = ['no-restricted-imports', 'no-restricted-syntax'];

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  if (!result) throw new Error(`no lint result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`${filePath}: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => LAYER_RULES.includes(m.ruleId ?? '')).map((m) => m.message);
}

// [file that imports, specifier]: the rules of issue 12 item 6, at more than one folder depth.
const FORBIDDEN: [string, string][] = [
  ['src/runtime/probe.ts', '../stacks/reconciler.ts'],
  ['src/runtime/probe.ts', '../providers/index.ts'],
  ['src/runtime/probe.ts', '../cli/run.ts'],
  ['src/runtime/probe.ts', '../api/v1alpha1/types.ts'],
  ['src/runtime/probe.ts', '../../src/stacks/operator.ts'],
  ['src/providers/probe.ts', '../stacks/operator.ts'],
  ['src/providers/heat/probe.ts', '../../stacks/plan.ts'],
  ['src/providers/heat/probe.ts', '../../runtime/clock.ts'],
  ['src/providers/probe.ts', '../cli/main.ts'],
  ['src/api/v1alpha1/probe.ts', '../../runtime/kube-client.ts'],
  ['src/api/v1alpha1/probe.ts', '../../stacks/reasons.ts'],
  ['src/api/v1alpha1/probe.ts', '../../providers/types.ts'],
  ['src/api/probe.ts', '../devenv/paths.ts'],
  ['src/stacks/probe.ts', '../cli/run.ts'],
  ['src/stacks/plan/probe.ts', '../../cli/run.ts'],
  ['src/emulator/probe.ts', '../runtime/clock.ts'],
  ['src/emulator/probe.ts', '../providers/auth/acs-signer.ts'],
  ['src/emulator/engine/probe.ts', '../../api/v1alpha1/types.ts'],
  ['src/emulator/probe.ts', '../lib/json.ts'],
  ['src/lib/probe.ts', '../api/v1alpha1/types.ts'],
  ['src/lib/probe.ts', '../runtime/clock.ts'],
  ['src/devenv/probe.ts', '../stacks/operator.ts'],
  ['src/cli/probe.ts', '../../test/env/kube.ts'],
  ['src/stacks/probe.ts', '../../test/env/kube.ts'],
  ['src/runtime/probe.ts', '../../test/integration/runtime/util.ts'],
];

const ALLOWED: [string, string][] = [
  ['src/stacks/probe.ts', '../runtime/manager.ts'],
  ['src/stacks/probe.ts', '../providers/index.ts'],
  ['src/stacks/probe.ts', '../api/v1alpha1/types.ts'],
  ['src/stacks/plan/probe.ts', '../../lib/json.ts'],
  ['src/providers/heat/probe.ts', '../../api/v1alpha1/types.ts'],
  ['src/providers/heat/probe.ts', '../http/client.ts'],
  ['src/api/v1alpha1/probe.ts', '../../lib/json.ts'],
  ['src/api/v1alpha1/probe.ts', './types.ts'],
  ['src/runtime/probe.ts', './clock.ts'],
  ['src/runtime/probe.ts', '../lib/json.ts'],
  ['src/emulator/engine/probe.ts', '../http.ts'],
  ['src/cli/probe.ts', '../devenv/control-plane.ts'],
  ['src/cli/probe.ts', '../stacks/operator.ts'],
  ['src/cli/probe.ts', '../emulator/index.ts'],
];

describe('layer rules (eslint no-restricted-imports)', () => {
  it.each(FORBIDDEN)('%s must not import %s', async (file, spec) => {
    for (const code of [`import '${spec}';\n`, `export * from '${spec}';\n`, `export const m = import('${spec}');\n`]) {
      const errors = await layerErrors(file, code);
      expect(errors, code).toHaveLength(1);
      expect(errors[0]).toContain('layer rule: ');
    }
  });

  it.each(ALLOWED)('%s may import %s', async (file, spec) => {
    expect(await layerErrors(file, `import '${spec}';\n`)).toEqual([]);
    expect(await layerErrors(file, `export const m = import('${spec}');\n`)).toEqual([]);
  });

  it('refuses import() with a computed specifier under src/ (the rules could not check it)', async () => {
    const code = "import { pathToFileURL } from 'node:url';\nexport const m = import(pathToFileURL('test/env/kube.ts').href);\n";
    const errors = await layerErrors('src/cli/probe.ts', code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('import() takes a string literal');
  });

  it('gives every folder of src/ a layer rule (a new folder must be placed in the table)', async () => {
    const folders = readdirSync(join(repoRoot, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.length).toBeGreaterThan(5);
    for (const folder of folders) {
      const config = (await eslint.calculateConfigForFile(join(repoRoot, 'src', folder, 'probe.ts'))) as { rules?: Record<string, unknown> };
      expect(config.rules?.['no-restricted-imports'], `src/${folder} has no layer rule in eslint.config.js`).toEqual([2, expect.anything()]);
    }
  });
});
