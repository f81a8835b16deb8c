import { barSegments, intervalBars } from '../../web/src/errorBars';

describe('error bars', () => {
  it('draws a whisker between the ends and a cap across each', () => {
    expect(barSegments([100, 200], [100, 150], 8)).toEqual([
      { x1: 100, y1: 200, x2: 100, y2: 150 },
      { x1: 96, y1: 200, x2: 104, y2: 200 },
      { x1: 96, y1: 150, x2: 104, y2: 150 },
    ]);
  });

  it('gives a bar only to the points with an interval', () => {
    const points = [
      { macs: 1, top1: { estimate: 0.5, low: 0.4, high: 0.6, n: 3, confidence: 0.95 } },
      { macs: 2, top1: { estimate: 0.7, low: null, high: null, n: 1, confidence: 0.95 } },
      { macs: 3, top1: null },
    ];
    expect(intervalBars(points, (p) => p.macs, (p) => p.top1)).toEqual([{ x: 1, low: 0.4, high: 0.6 }]);
  });
});
