import { kendallTauB, rankAgreement, spearmanRho } from '../../autoslim';

describe('rank agreement between supernet scores and retrained accuracy', () => {
  const scores = [0.61, 0.55, 0.7, 0.48, 0.66, 0.52];
  const retrained = [0.9, 0.86, 0.91, 0.84, 0.89, 0.87];

  test('the estimates are τ-b and ρ of the pairs, with a bootstrap interval around them', () => {
    const { kendallTau, spearmanRho: rho } = rankAgreement(scores, retrained);
    // By hand: 15 pairs, 13 ordered alike, 2 not (0.61/0.66 and 0.55/0.52 swap): τ = 11/15.
    expect(kendallTau!.estimate).toBeCloseTo(11 / 15, 12);
    expect(kendallTau!.estimate).toBe(kendallTauB(scores, retrained));
    // Ranks 4 3 6 1 5 2 against 5 2 6 1 4 3: Σd² = 4, ρ = 1 − 6·4 / (6·35).
    expect(rho!.estimate).toBeCloseTo(1 - 24 / 210, 12);
    expect(rho!.estimate).toBe(spearmanRho(scores, retrained));
    for (const interval of [kendallTau!, rho!]) {
      expect(interval).toMatchObject({ n: 6, confidence: 0.95 });
      expect(interval.low!).toBeLessThanOrEqual(interval.estimate);
      expect(interval.high!).toBeGreaterThanOrEqual(interval.estimate);
      expect(interval.high!).toBeLessThanOrEqual(1);
    }
  });

  test('seeded: asked twice, the same interval', () => {
    expect(rankAgreement(scores, retrained)).toEqual(rankAgreement(scores, retrained));
    expect(rankAgreement(scores, retrained, { seed: 1 }).kendallTau!.low).not.toBe(undefined);
  });

  test('two pairs give an estimate without an interval, one pair or a constant side nothing', () => {
    expect(rankAgreement([0.1, 0.2], [0.5, 0.6]).kendallTau).toEqual({ estimate: 1, low: null, high: null, n: 2, confidence: 0.95 });
    expect(rankAgreement([0.1], [0.5])).toEqual({ kendallTau: null, spearmanRho: null });
    expect(rankAgreement([0.1, 0.2, 0.3], [0.5, 0.5, 0.5])).toEqual({ kendallTau: null, spearmanRho: null });
  });
});
