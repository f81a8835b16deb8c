import {
  bootstrapInterval,
  kendallTauB,
  meanInterval,
  pairedDifference,
  ranks,
  spearmanRho,
  studentTQuantile,
  verdictOf,
} from '../../autoslim';
import { expectAutoSlimError } from './expect-error';

describe("Student's t quantiles", () => {
  test.each([
    [0.975, 1, 12.7062047],
    [0.975, 2, 4.3026527],
    [0.975, 4, 2.7764451],
    [0.975, 30, 2.0422725],
    [0.95, 10, 1.8124611],
    [0.025, 4, -2.7764451],
  ])('t(%p, df %p) = %p (tables)', (p, df, expected) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(expected, 6);
  });
});

describe('a mean over seeds with its t-interval', () => {
  test('three values, computed by hand: 0.82 ± 4.3027 · 0.02 / √3', () => {
    const interval = meanInterval([0.8, 0.82, 0.84]);
    expect(interval.estimate).toBeCloseTo(0.82, 12);
    expect(interval.low).toBeCloseTo(0.770317, 6);
    expect(interval.high).toBeCloseTo(0.869683, 6);
    expect(interval).toMatchObject({ n: 3, confidence: 0.95 });
  });

  test('one value has no interval, and says so', () => {
    expect(meanInterval([0.7])).toEqual({ estimate: 0.7, low: null, high: null, n: 1, confidence: 0.95 });
    expect(verdictOf(meanInterval([0.7]))).toBe('insufficient');
  });

  test('rejects nothing to average and non-finite values, naming the field', () => {
    expectAutoSlimError(() => meanInterval([]), 'values', 'non-empty');
    expectAutoSlimError(() => meanInterval([0.5, Number.NaN]), 'values[1]', 'finite');
  });
});

describe('a difference paired by seed', () => {
  const autoslim = new Map([
    [0, 0.8],
    [1, 0.82],
    [2, 0.85],
  ]);

  test('uses only the seeds both sides have, computed by hand: 0.02 ± 4.3027 · 0.01 / √3', () => {
    const uniform = new Map([
      [0, 0.79],
      [1, 0.8],
      [2, 0.82],
      [3, 0.9],
    ]);
    const difference = pairedDifference(autoslim, uniform)!;
    expect(difference.estimate).toBeCloseTo(0.02, 12);
    expect(difference.low).toBeCloseTo(-0.004841, 6);
    expect(difference.high).toBeCloseTo(0.044841, 6);
    expect(difference.n).toBe(3);
    expect(verdictOf(difference)).toBe('indistinguishable');
  });

  test('is tighter than comparing the means when the seeds move both alike', () => {
    const uniform = new Map([...autoslim].map(([seed, v]) => [seed, v - 0.01 + 0.001 * seed]));
    const paired = pairedDifference(autoslim, uniform)!;
    expect(verdictOf(paired)).toBe('better');
    const separate = [meanInterval([...autoslim.values()]), meanInterval([...uniform.values()])];
    expect(separate[0]!.low!).toBeLessThan(separate[1]!.high!);
  });

  test('a consistent loss is worse; no shared seed is no comparison', () => {
    const better = new Map([...autoslim].map(([seed, v]) => [seed, v + 0.03 + 0.001 * seed]));
    expect(verdictOf(pairedDifference(autoslim, better)!)).toBe('worse');
    expect(pairedDifference(autoslim, new Map([[9, 0.5]]))).toBeNull();
  });
});

describe('rank correlations', () => {
  test('without ties, computed by hand: 7 concordant and 3 discordant pairs; Σd² = 8', () => {
    expect(kendallTauB([1, 2, 3, 4, 5], [3, 1, 2, 5, 4])).toBeCloseTo(0.4, 12);
    expect(spearmanRho([1, 2, 3, 4, 5], [3, 1, 2, 5, 4])).toBeCloseTo(0.6, 12);
  });

  test('with ties: τ-b = 4 / √(5 · 5); ρ from average ranks = 3.75 / 4.5', () => {
    expect(kendallTauB([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(0.8, 12);
    expect(ranks([1, 2, 2, 3])).toEqual([1, 2.5, 2.5, 4]);
    expect(spearmanRho([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(3.75 / 4.5, 12);
  });

  test('perfect agreement is 1, reversal −1, a constant side undefined', () => {
    expect(kendallTauB([1, 2, 3], [10, 20, 30])).toBe(1);
    expect(spearmanRho([1, 2, 3], [30, 20, 10])).toBeCloseTo(-1, 12);
    expect(kendallTauB([1, 2, 3], [5, 5, 5])).toBeNaN();
  });

  test('rejects unpaired or too short inputs, naming the field', () => {
    expectAutoSlimError(() => kendallTauB([1, 2], [1]), 'y', 'same-length');
    expectAutoSlimError(() => spearmanRho([1], [1]), 'x', 'at-least-two');
  });
});

describe('bootstrap intervals over configurations', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const y = [2, 1, 4, 3, 6, 5, 8, 7, 10, 9];
  const tau = (indices: readonly number[]) => kendallTauB(indices.map((i) => x[i]!), indices.map((i) => y[i]!));

  test('holds the estimate, lies within [−1, 1], and is reproducible from its seed', () => {
    const interval = bootstrapInterval(x.length, tau, { seed: 7 })!;
    const estimate = kendallTauB(x, y);
    expect(interval.low).toBeLessThanOrEqual(estimate);
    expect(interval.high).toBeGreaterThanOrEqual(estimate);
    expect(interval.low).toBeGreaterThanOrEqual(-1);
    expect(interval.high).toBeLessThanOrEqual(1);
    expect(bootstrapInterval(x.length, tau, { seed: 7 })).toEqual(interval);
  });

  test('a perfect ranking has the interval [1, 1]', () => {
    expect(bootstrapInterval(x.length, (idx) => kendallTauB(idx.map((i) => x[i]!), idx.map((i) => x[i]!)))).toEqual({ low: 1, high: 1 });
  });

  test('is null when most resamples leave the statistic undefined', () => {
    expect(bootstrapInterval(2, () => Number.NaN)).toBeNull();
  });
});
