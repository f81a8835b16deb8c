import { bootstrapInterval, CONFIDENCE, kendallTauB, spearmanRho, type BootstrapOptions, type Interval } from './statistics';

/** How well one ranking (supernet scores) agrees with another (retrained accuracy). */
export interface RankAgreement {
  readonly kendallTau: Interval | null;
  readonly spearmanRho: Interval | null;
}

/** Below this many pairs a resample is too often all one pair to give an interval worth showing. */
export const MIN_PAIRS_FOR_INTERVAL = 3;

/**
 * Kendall's τ-b and Spearman's ρ between paired x and y, each with a percentile bootstrap interval
 * that resamples the pairs (TRUST.md). Null below two pairs, or when one side is constant; no
 * interval below three pairs.
 */
export function rankAgreement(x: readonly number[], y: readonly number[], options: BootstrapOptions = {}): RankAgreement {
  const correlate = (statistic: (x: readonly number[], y: readonly number[]) => number): Interval | null => {
    if (x.length < 2) return null;
    const estimate = statistic(x, y);
    if (Number.isNaN(estimate)) return null;
    const confidence = options.confidence ?? CONFIDENCE;
    const bootstrap =
      x.length >= MIN_PAIRS_FOR_INTERVAL
        ? bootstrapInterval(x.length, (indices) => statistic(indices.map((i) => x[i]!), indices.map((i) => y[i]!)), options)
        : null;
    return { estimate, low: bootstrap?.low ?? null, high: bootstrap?.high ?? null, n: x.length, confidence };
  };
  return { kendallTau: correlate(kendallTauB), spearmanRho: correlate(spearmanRho) };
}
