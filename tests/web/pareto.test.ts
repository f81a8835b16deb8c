import fc from 'fast-check';
import { accuracyAxisBounds, basisCoverage, defaultBasis, paretoFront, paretoRanks, scoredPoints, type ScoredPoint } from '../../web/src/pareto';
import { FRONT, MARKS, paretoChart, type PlotPoint } from '../../web/src/paretoChart';

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
  const none = { searchAccuracy: null, retrainedTop1Mean: null, exportedTop1: null, inheritedTop1: null };
  const candidates = [
    { ...none, id: 'a', macs: 5, searchAccuracy: 0.7, inheritedTop1: 0.5 },
    { ...none, id: 'b', macs: 6, searchAccuracy: 0.6, inheritedTop1: 0.55, retrainedTop1Mean: 0.75 },
    { ...none, id: 'c', macs: 6.5, searchAccuracy: 0.65 },
    { ...none, id: 'uniform', macs: 7 },
  ];

  it('keeps the accuracy most candidates have when one retraining finishes, rather than switching to the one that has it', () => {
    expect(basisCoverage(candidates)).toEqual({ search: 3, retrained: 1, exported: 0, inherited: 2 });
    expect(defaultBasis(candidates)).toBe('search');
  });

  it('prefers retrained top-1 once as many candidates have it, and never mixes two accuracies in one ranking', () => {
    const retrained = candidates.map((c, i) => ({ ...c, retrainedTop1Mean: i < 3 ? 0.7 + i / 100 : null }));
    expect(defaultBasis(retrained)).toBe('retrained');
    expect(scoredPoints(candidates, 'retrained')).toEqual([point('b', 6, 0.75)]);
    expect(scoredPoints(candidates, 'inherited').map((p) => p.id)).toEqual(['a', 'b']);
  });
});

describe('the accuracy axis', () => {
  it('frames one point closely instead of spanning 20–120%', () => {
    expect(accuracyAxisBounds([0.5])).toEqual({ min: 0.48, max: 0.52, step: 0.01 });
  });

  it('never goes past 0% or 100%', () => {
    expect(accuracyAxisBounds([0.99, 0.995])).toEqual({ min: 0.97, max: 1, step: 0.01 });
    expect(accuracyAxisBounds([0.005])).toEqual({ min: 0, max: 0.03, step: 0.01 });
    expect(accuracyAxisBounds([0.1, 0.9])).toEqual({ min: 0, max: 1, step: 0.1 });
  });

  it('pads a spread by a tenth of it, out to a round tick step', () => {
    expect(accuracyAxisBounds([0.6, 0.8])).toEqual({ min: 0.55, max: 0.85, step: 0.05 });
    expect(accuracyAxisBounds([0.65, 0.725])).toEqual({ min: 0.62, max: 0.76, step: 0.02 });
  });
});

describe('the Pareto chart', () => {
  const candidate = (id: string, source: PlotPoint['source'], macs: number, retrained: number | null): PlotPoint => ({
    id,
    source,
    macs,
    searchAccuracy: null,
    retrainedTop1Mean: retrained,
    retrainedTop1: retrained === null ? null : { estimate: retrained, low: null, high: null, n: 1, confidence: 0.95 },
    inheritedTop1: null,
    exportedTop1: null,
  });
  const points = [candidate('u1', 'UNIFORM', 1e6, 0.6), candidate('a1', 'AUTOSLIM', 2e6, 0.7), candidate('u2', 'UNIFORM', 3e6, 0.8)];
  const { option, bounds } = paretoChart(points, 'retrained', ({ name, color }) => ({ type: 'custom', name, color, z: 1 }));
  const series = option.series as { type: string; name: string; z: number; color?: string; lineStyle?: { color: string } }[];
  const front = series.find((s) => s.name === FRONT.name)!;

  it("gives the front's legend entry the colour of its line", () => {
    expect(front.color).toBe(front.lineStyle!.color);
  });

  it('draws every marker above the front line', () => {
    for (const scatter of series.filter((s) => s.type === 'scatter')) expect(scatter.z).toBeGreaterThan(front.z);
    expect(series.find((s) => s.type === 'scatter' && s.name === MARKS.UNIFORM.name)!.z).toBeGreaterThan(front.z);
  });

  it('sets its accuracy axis to the padded bounds of the points', () => {
    expect(bounds).toEqual({ min: 0.55, max: 0.85, step: 0.05 });
    expect(option.yAxis).toMatchObject({ min: 0.55, max: 0.85, interval: 0.05, name: 'retrained top-1' });
  });
});
