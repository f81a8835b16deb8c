import fc from 'fast-check';
import { accuracyBasis, paretoFront, paretoRanks, scoredPoints, type ScoredPoint } from '../../web/src/pareto';

/** The definition, quadratically: peel off the non-dominated points, front after front. */
function peeledRanks(points: readonly ScoredPoint[]): Map<string, number> {
  const dominates = (a: ScoredPoint, b: ScoredPoint) =>
    a.cost <= b.cost && a.accuracy >= b.accuracy && (a.cost < b.cost || a.accuracy > b.accuracy);
  const ranks = new Map<string, number>();
  let left = [...points];
  for (let rank = 1; left.length > 0; rank++) {
    const front = left.filter((p) => !left.some((q) => dominates(q, p)));
    front.forEach((p) => ranks.set(p.id, rank));
    left = left.filter((p) => !front.includes(p));
  }
  return ranks;
}

const point = (id: string, cost: number, accuracy: number): ScoredPoint => ({ id, cost, accuracy });

describe('Pareto ranks', () => {
  it('puts cheaper-and-better points first and shares a rank between identical points', () => {
    const ranks = paretoRanks([point('a', 1, 0.5), point('b', 2, 0.7), point('c', 2, 0.6), point('d', 3, 0.6), point('e', 2, 0.7)]);
    expect(Object.fromEntries(ranks)).toEqual({ a: 1, b: 1, e: 1, c: 2, d: 3 });
  });

  it('agrees with peeling fronts one by one', () => {
    const points = fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), { maxLength: 60 });
    fc.assert(
      fc.property(points, (pairs) => {
        const scored = pairs.map(([cost, accuracy], i) => point(String(i), cost, accuracy / 20));
        expect(paretoRanks(scored)).toEqual(peeledRanks(scored));
      }),
    );
  });

  it('draws the front in increasing cost', () => {
    expect(paretoFront([point('x', 3, 0.9), point('y', 1, 0.4), point('z', 2, 0.3)]).map((p) => p.id)).toEqual(['y', 'x']);
  });
});

describe('which accuracy a ranking compares', () => {
  const candidates = [
    { id: 'searched', macs: 5, searchAccuracy: 0.7, retrainedTop1Mean: null },
    { id: 'retrained', macs: 6, searchAccuracy: 0.6, retrainedTop1Mean: 0.75 },
    { id: 'uniform', macs: 7, searchAccuracy: null, retrainedTop1Mean: null },
  ];

  it('uses retrained top-1 once anything is retrained, and never mixes it with search accuracy', () => {
    expect(accuracyBasis(candidates)).toBe('retrained');
    expect(scoredPoints(candidates, 'retrained')).toEqual([point('retrained', 6, 0.75)]);
  });

  it('falls back to search accuracy before any retraining', () => {
    const unretrained = candidates.map((c) => ({ ...c, retrainedTop1Mean: null }));
    expect(accuracyBasis(unretrained)).toBe('search');
    expect(scoredPoints(unretrained, 'search').map((p) => p.id)).toEqual(['searched', 'retrained']);
  });
});
