import fc from 'fast-check';
import { downsample } from '../../server/services/downsample';

describe('downsample (largest triangle three buckets)', () => {
  it('returns short series unchanged', () => {
    const points = [0, 1, 2].map((x) => ({ x, y: x * x }));
    expect(downsample(points, 10)).toEqual(points);
  });

  it('never returns more than maxPoints, keeps both ends, and keeps x in order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 500 }), fc.integer({ min: 2, max: 100 }), (ys, max) => {
        const points = ys.map((y, x) => ({ x, y }));
        const kept = downsample(points, max);
        expect(kept.length).toBeLessThanOrEqual(Math.max(max, 0));
        expect(kept[0]).toBe(points[0]);
        expect(kept.at(-1)).toBe(points.at(-1));
        for (let i = 1; i < kept.length; i++) expect(kept[i]!.x).toBeGreaterThan(kept[i - 1]!.x);
      }),
    );
  });

  it('keeps a spike that striding would drop', () => {
    const points = Array.from({ length: 1000 }, (_, x) => ({ x, y: x === 503 ? 100 : 0 }));
    expect(downsample(points, 20).some((p) => p.x === 503)).toBe(true);
  });
});
