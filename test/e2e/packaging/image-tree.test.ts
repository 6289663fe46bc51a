// The image's runtime stage, without a container engine (issue 20 item 5): the same file tree as the
// Dockerfile's runtime stage (production node_modules from `npm ci --omit=dev --ignore-scripts`,
// dist/ from `npm run build`'s tsc, package.json) in a clean directory, run by node alone (no npm on
// PATH) as uid/gid 65532 with a read-only root filesystem (a private mount namespace: root is root
// here, so unshare + setpriv stand in for the container runtime), against the real API server.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/devenv/control-plane.ts';
import { installCrds } from '../../../src/devenv/crds.ts';
import { kubectl, testKubeconfigPath } from '../../env/kube.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { must, run, waitFor } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'so-image-tree-'));
const app = join(root, 'app');
const binDir = join(root, 'bin');
const UID = '65532';
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** argv run as uid/gid 65532 with / (and so the app) read-only, PATH = node only. */
function asImage(argv: string[]): [string, string[]] {
  // Absolute paths: PATH holds node only.
  const script = '/usr/bin/mount --rbind / / && /usr/bin/mount -o remount,bind,ro / && exec /usr/bin/setpriv --reuid=$0 --regid=$0 --clear-groups "$@"';
  return ['/usr/bin/unshare', ['-m', '--propagation', 'private', '/bin/sh', '-c', script, UID, 'node', ...argv]];
}
const env = () => ({ PATH: binDir, HOME: '/nonexistent', NODE_ENV: 'production' });

beforeAll(async () => {
  mkdirSync(app, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(join(repoRoot, f), join(app, f));
  // The deps stage: production dependencies only, no install scripts (cache outside the repo).
  const cache = join(process.env.STACK_OPERATOR_CACHE ?? join(homedir(), '.cache', 'stack-operator'), 'npm');
  must(await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], { cwd: app, timeoutMs: 300_000 }), 'npm ci --omit=dev');
  // The build stage: tsc -p tsconfig.build.json (npm run build) on src/ only, then only dist/ is copied.
  const build = join(root, 'build');
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src']) cpSync(join(repoRoot, f), join(build, f), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(build, 'node_modules'));
  must(await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: build, timeoutMs: 240_000 }), 'tsc');
  cpSync(join(build, 'dist'), join(app, 'dist'), { recursive: true });
  mkdirSync(binDir);
  symlinkSync(process.execPath, join(binDir, 'node'));
  must(await run('chmod', ['-R', 'a+rX,go-w', root]), 'chmod');
  await installCrds(testKubeconfigPath());
}, 600_000);

describe('the runtime file tree', () => {
  it('holds production dependencies only, and package.json bin names a file in it', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    // What the lock file marks dev-only (the dev tools; @types/node is also a production dependency's).
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([k, v]) => v.dev && k.split('node_modules/').length === 2).map(([k]) => k);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/typescript', 'node_modules/vitest', 'node_modules/eslint']));
    for (const dev of devOnly) expect(existsSync(join(app, dev)), dev).toBe(false);
    for (const target of Object.values(pkg.bin)) {
      expect(existsSync(join(app, target)), target).toBe(true);
      expect(readFileSync(join(app, target), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    }
  });
});

describe('run as uid 65532 with a read-only root, node only', () => {
  it('cannot write to the app directory', async () => {
    const [cmd, args] = asImage(['-e', `require('fs').writeFileSync(${JSON.stringify(join(app, 'x'))}, ''); console.log(process.getuid())`]);
    const r = await run(cmd, args, { cwd: app, env: env() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/EROFS|EACCES/);
  });

  it('--version and run --help from the package bin entry', async () => {
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const main = Object.values(pkg.bin)[0] ?? '';
    const v = await run(...asImage([main, '--version']), { cwd: app, env: env() });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(`stack-operator ${pkg.version}`);
    const help = await run(...asImage(['dist/cli/main.js', 'run', '--help']), { cwd: app, env: env() });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('usage: stack-operator run');
  });

  it('run reaches /readyz on the real API server and stops cleanly on SIGTERM', async () => {
    // A self-contained kubeconfig the unprivileged user can read (the test one points at root-only files).
    const flat = must(await kubectl(['config', 'view', '--raw', '--flatten', '--kubeconfig', testKubeconfigPath()]), 'kubectl config view --flatten');
    const kubeconfig = join(root, 'kubeconfig');
    writeFileSync(kubeconfig, flat, { mode: 0o644 });
    const port = await freePort();
    const [cmd, args] = asImage(['dist/cli/main.js', 'run', '--kubeconfig', kubeconfig, '--metrics-bind-address', '0', '--health-probe-bind-address', `127.0.0.1:${port}`]);
    const { spawn } = await import('node:child_process');
    const child = spawn(cmd, args, { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (logs += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (logs += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(`/readyz (logs: ${logs.slice(-2000)})`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 90_000);
    } finally {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code, logs).toBe(0);
    expect(logs).toContain('stack-operator stopped');
  });
});
