// `npm run bench -- --repeat=N`: the spread of each figure over N result files. Pure: results are
// objects here, as the bench writes them.
import { describe, expect, it } from 'vitest';
import { spread, spreads } from '../../bench/repeat.ts';

const run = (restartS: number, p50?: number): Record<string, unknown> => ({
  throughput: { stacks: 200, ratio: 1 },
  ...(p50 === undefined ? {} : { latency: { sendToArrivalMs: { p50, p99: p50 * 2 } } }),
  restart: { wallS: restartS, k8sWrites: 0 },
});

describe('bench --repeat spreads', () => {
  it('gives the minimum, the median and the maximum; the median of an even count is the middle pair', () => {
    expect(spread([7, 5, 6])).toEqual({ values: [7, 5, 6], min: 5, median: 6, max: 7 });
    expect(spread([8, 5, 6, 7])).toMatchObject({ min: 5, median: 6.5, max: 8 });
  });

  it('leaves out runs that lack the figure, and keeps their place in the values', () => {
    expect(spread([4, undefined, Number.NaN, 2])).toEqual({ values: [4, null, null, 2], min: 2, median: 3, max: 4 });
    expect(spread([undefined])).toEqual({ values: [null] });
  });

  it('lines up each figure of every run, ours and the twin apart', () => {
    const f = spreads([run(6.2, 60), run(6.8, 64), run(6.1)], [run(9.9, 48), run(10.4, 50), run(9.5, 49)]);
    const restart = f.find((x) => x.name.startsWith('restart with every Stack Ready'));
    expect(restart?.ours).toMatchObject({ min: 6.1, median: 6.2, max: 6.8 });
    expect(restart?.twin).toMatchObject({ min: 9.5, median: 9.9, max: 10.4 });
    const p50 = f.find((x) => x.name.startsWith('reaction latency p50'));
    expect(p50?.ours).toEqual({ values: [60, 64, null], min: 60, median: 62, max: 64 });
    expect(spreads([run(1)], []).every((x) => x.twin === undefined)).toBe(true);
  });
});
