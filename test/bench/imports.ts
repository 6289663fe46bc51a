// `node test/bench/imports.ts`: RSS and heap of a fresh Node process after importing one module
// (a full GC first), each in its own child, so the cost of a dependency is measured before any
// Stack is loaded (docs/benchmarks.md, "What the operator costs before it holds a Stack").
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/devenv/paths.ts';

export const IMPORTS = ['', 'undici', 'pino', 'prom-client', '@kubernetes/client-node', './src/runtime/kube-client.ts', './src/cli/run.ts'];

export function importCost(spec: string, nodeOptions: string[] = []): { module: string; rssMiB: number; heapUsedMiB: number } {
  const code = `${spec ? `await import(${JSON.stringify(spec)});` : ''} for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 200)); }
const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heap: m.heapUsed }));`;
  const out = execFileSync(join(repoRoot, 'node_modules/.bin/node'), [...nodeOptions, '--expose-gc', '--input-type=module', '-e', code], { cwd: repoRoot, encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { rss: number; heap: number };
  const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  return { module: spec || '(nothing)', rssMiB: mib(r.rss), heapUsedMiB: mib(r.heap) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = process.argv.slice(2);
  for (const m of IMPORTS) console.log(JSON.stringify(importCost(m, flags)));
}
