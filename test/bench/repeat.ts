// `npm run bench -- --repeat=N [--twin] [--quick] [...]`: the same bench N times, one run after the
// other (with --twin, ours and the twin alternate: ours 1, twin 1, ours 2, ...), then each headline
// figure's spread over the runs: minimum, median, maximum. Single runs of the same code on this shared
// 2-core machine moved by up to 21 % (docs/benchmarks.md, ninth round); a spread says whether a
// difference between two rounds is larger than that. Each run keeps its own result file (`<mode>-r<i>.json`, `twin-<mode>-r<i>.json`);
// the spreads go to `repeat-<mode>.json` and into docs/benchmarks.md.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTwin, figures, runBench } from './twin.ts';

export interface Spread {
  values: (number | null)[];
  min?: number;
  median?: number;
  max?: number;
}

export interface RepeatResult {
  mode: string;
  runs: number;
  startedAt: string;
  files: { ours: string[]; twin: string[] };
  figures: { name: string; ours: Spread; twin?: Spread }[];
}

/** Minimum, median and maximum of the values a figure took (runs without it are left out). */
export function spread(values: (number | undefined)[]): Spread {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  const out: Spread = { values: values.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null)) };
  if (v.length === 0) return out;
  const mid = v.length / 2;
  const median = v.length % 2 === 1 ? (v[Math.floor(mid)] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { ...out, min: v[0], median: Math.round(median * 100) / 100, max: v.at(-1) };
}

/** The spreads of N result objects (and the twin's, when given), figure by figure. */
export function spreads(ours: Record<string, any>[], twin: Record<string, any>[]): RepeatResult['figures'] {
  const o = ours.map(figures);
  const t = twin.map(figures);
  return (o[0] ?? []).map(([name], i) => ({
    name,
    ours: spread(o.map((f) => f[i]?.[1])),
    ...(t.length > 0 ? { twin: spread(t.map((f) => f[i]?.[1])) } : {}),
  }));
}

/** Runs the bench `n` times (as child processes) and writes the spreads; returns the worst exit code. */
export async function runRepeated(args: string[], mode: string, n: number, withTwin: boolean, resultsDir: string): Promise<number> {
  const pass = args.filter((a) => !a.startsWith('--repeat') && a !== '--twin' && !a.startsWith('--out') && !a.startsWith('--operator'));
  if (withTwin) process.stderr.write(`[bench --repeat] twin binary ${buildTwin().path}\n`);
  const startedAt = new Date().toISOString();
  const files = { ours: [] as string[], twin: [] as string[] };
  let worst = 0;
  for (let i = 1; i <= n; i++) {
    process.stderr.write(`[bench --repeat] run ${i} of ${n}\n`);
    files.ours.push(`${mode}-r${i}`);
    worst = Math.max(worst, await runBench([...pass, `--out=${mode}-r${i}`]));
    if (!withTwin) continue;
    files.twin.push(`twin-${mode}-r${i}`);
    worst = Math.max(worst, await runBench([...pass, `--out=twin-${mode}-r${i}`, '--operator=twin']));
  }
  const read = (f: string): Record<string, any>[] => {
    const file = join(resultsDir, `${f}.json`);
    return existsSync(file) ? [JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>] : [];
  };
  const result: RepeatResult = { mode, runs: n, startedAt, files, figures: spreads(files.ours.flatMap(read), files.twin.flatMap(read)) };
  writeFileSync(join(resultsDir, `repeat-${mode}.json`), `${JSON.stringify(result, null, 2)}\n`);
  return worst;
}

/** The section of docs/benchmarks.md for one mode's repeated runs ('' when there are none). */
export function repeatSection(resultsDir: string, mode: string): string {
  const f = join(resultsDir, `repeat-${mode}.json`);
  if (!existsSync(f)) return '';
  const r = JSON.parse(readFileSync(f, 'utf8')) as RepeatResult;
  const twin = r.figures.some((x) => x.twin);
  const cell = (s: Spread | undefined): string => (s?.median === undefined ? '–' : `${s.median} (${s.min}–${s.max})`);
  const out = [
    `### Repeated runs (${mode}): each figure's spread`,
    '',
    `\`npm run bench -- --repeat=${r.runs}${twin ? ' --twin' : ''}${mode === 'quick' ? ' --quick' : ''}\`, started ${r.startedAt}: ${r.runs} runs${twin ? ' each, ours and the twin alternating' : ''}, one after the other (result files ${[...r.files.ours, ...r.files.twin].map((x) => `\`${x}.json\``).join(', ')}). Median (minimum–maximum) over the runs.`,
    '',
    twin ? '| figure | ours | twin | ratio of the medians |' : '| figure | ours |',
    twin ? '|---|---|---|---|' : '|---|---|',
  ];
  for (const x of r.figures) {
    if (x.ours.median === undefined && x.twin?.median === undefined) continue;
    const ratio = x.ours.median !== undefined && x.twin?.median ? `${Math.round((x.ours.median / x.twin.median) * 100) / 100}` : '–';
    out.push(twin ? `| ${x.name} | ${cell(x.ours)} | ${cell(x.twin)} | ${ratio} |` : `| ${x.name} | ${cell(x.ours)} |`);
  }
  return out.join('\n');
}
