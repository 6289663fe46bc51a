// What the Dockerfile's build stage does, without a container engine: the Docker build context
// (.dockerignore leaves out test/, scripts/, ...) gets package.json, tsconfig*.json and src/, and
// `npm run build` (tsc -p tsconfig.build.json) must compile it to dist/ with dist/cli/main.js as the
// image's entry point. The result must run: `node dist/cli/main.js run --help`.
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { NODE, run } from './helpers.ts';

const ctx = mkdtempSync(join(tmpdir(), 'so-image-build-'));
afterAll(() => rmSync(ctx, { recursive: true, force: true }));

describe('npm run build in the Docker build context', () => {
  it('compiles src/ (without test/) to dist/, and dist/cli/main.js runs', async () => {
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src']) cpSync(join(repoRoot, f), join(ctx, f), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(ctx, 'node_modules'));
    // npm run build = tsc -p tsconfig.build.json (package.json); run tsc the same way, in the context.
    const r = await run(NODE, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ctx, timeoutMs: 240_000 });
    expect(r.code, `tsc -p tsconfig.build.json failed in a context without test/ (nothing under src/ may import test/):\n${r.stdout}${r.stderr}`).toBe(0);
    expect(existsSync(join(ctx, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(ctx, 'dist', 'test'))).toBe(false);
    const help = await run(NODE, [join(ctx, 'dist', 'cli', 'main.js'), 'run', '--help'], { cwd: ctx, timeoutMs: 30_000 });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('usage: stack-operator run');
  });
});
