import type { BaselineComparison, Interval } from '../../web/src/api/types';
import { accuracyInterval, correlationText, correlationTitle, differenceInterval, halfWidth, tauText, verdictExplanation, VERDICT_LABEL } from '../../web/src/trust';

const interval = (estimate: number, low: number | null, high: number | null, n: number): Interval => ({ estimate, low, high, n, confidence: 0.95 });

const comparison = (difference: Interval | null, verdict: BaselineComparison['verdict']): BaselineComparison => ({
  baseline: { id: 'u', configHash: 'abc', macs: 7e6, widthMultiplier: 0.75 },
  budget: 7e6,
  difference,
  verdict,
});

describe('intervals as people read them', () => {
  it('shows a mean over seeds with half its interval, in percentage points, and n', () => {
    expect(accuracyInterval(interval(0.912, 0.908, 0.916, 3))).toBe('91.20% ± 0.40 (n=3)');
    expect(halfWidth(interval(0.912, 0.908, 0.916, 3))).toBeCloseTo(0.004, 12);
  });

  it('says when one seed gives no interval, and shows a dash before any', () => {
    expect(accuracyInterval(interval(0.9, null, null, 1))).toBe('90.00% (n=1, one seed: no interval)');
    expect(halfWidth(interval(0.9, null, null, 1))).toBeNull();
    expect(accuracyInterval(null)).toBe('—');
  });

  it('signs a difference, with a true minus', () => {
    expect(differenceInterval(interval(0.011, 0.005, 0.017, 3))).toBe('+1.10 ± 0.60 pts (n=3)');
    expect(differenceInterval(interval(-0.002, -0.01, 0.006, 2))).toBe('−0.20 ± 0.80 pts (n=2)');
    expect(differenceInterval(interval(0.004, null, null, 1))).toBe('+0.40 pts (n=1, one seed: no interval)');
  });
});

describe('verdicts', () => {
  it('has a short label for each', () => {
    expect(VERDICT_LABEL).toEqual({ BETTER: 'better', WORSE: 'worse', INDISTINGUISHABLE: 'not distinguishable', INSUFFICIENT: 'insufficient seeds' });
  });

  it('explains each in words, naming the baseline, the interval and the pairing', () => {
    const better = verdictExplanation(comparison(interval(0.011, 0.005, 0.017, 3), 'BETTER'));
    expect(better).toMatch(/^Better than the ×0\.750 uniform network/);
    expect(better).toContain('95% t-interval from 0.50 to 1.70 points lies above zero');
    expect(better).toContain('paired by seed');
    expect(verdictExplanation(comparison(interval(-0.011, -0.017, -0.005, 3), 'WORSE'))).toContain('lies below zero');
    expect(verdictExplanation(comparison(interval(0.002, -0.004, 0.008, 3), 'INDISTINGUISHABLE'))).toContain('contains zero, so the seeds do not tell which is better');
    expect(verdictExplanation(comparison(interval(0.01, null, null, 1), 'INSUFFICIENT'))).toContain('Only 1 seed is shared');
    expect(verdictExplanation(comparison(null, 'INSUFFICIENT'))).toContain('No seed was retrained for both');
  });
});

describe('rank correlations', () => {
  it('titles a chart with τ, ρ, their intervals and how many configs they rest on', () => {
    const correlation = { bnMode: 'RECALIBRATED' as const, configs: 12, kendallTau: interval(0.62, 0.41, 0.8, 12), spearmanRho: interval(0.75, 0.52, 0.9, 12) };
    expect(correlationTitle(correlation)).toBe('τ = 0.62 [0.41, 0.80] · ρ = 0.75 [0.52, 0.90] · 12 configs (95% intervals)');
  });

  it('says n/a for a correlation that is undefined (a constant side)', () => {
    expect(correlationText(null)).toBe('n/a');
    expect(correlationTitle({ bnMode: 'BATCH_STATS', configs: 2, kendallTau: null, spearmanRho: null })).toBe('τ = n/a · ρ = n/a · 2 configs');
    expect(tauText({ bnMode: 'BATCH_STATS', configs: 2, kendallTau: null, spearmanRho: null })).toBe('τ = n/a');
  });

  it('says not yet before two configs have both a score and a retraining', () => {
    const early = { bnMode: 'RECALIBRATED' as const, configs: 1, kendallTau: null, spearmanRho: null };
    expect(tauText(early)).toBe('τ not yet');
    expect(correlationTitle(early)).toBe('τ and ρ need two configs with both a supernet score and a retrained top-1 (1 so far)');
  });
});
