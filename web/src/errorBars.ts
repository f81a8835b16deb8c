/** Vertical error bars: which points get one, and the strokes that draw one. */
import type { Interval } from './api/types';

/** One bar in data coordinates: at x, from low to high. */
export interface Bar {
  readonly x: number;
  readonly low: number;
  readonly high: number;
}

export type Pixel = readonly [number, number];

export interface Segment {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** The bars of the points that have an interval; a point without one (n < 2) gets none rather than a bar of zero height. */
export function intervalBars<T>(points: readonly T[], x: (point: T) => number, interval: (point: T) => Interval | null): Bar[] {
  return points.flatMap((point) => {
    const i = interval(point);
    return i && i.low !== null && i.high !== null ? [{ x: x(point), low: i.low, high: i.high }] : [];
  });
}

/**
 * The strokes of one bar in pixels, given where its ends land on the canvas: the whisker from low to
 * high, and a cap of `capWidth` pixels across each end.
 */
export function barSegments(low: Pixel, high: Pixel, capWidth: number): Segment[] {
  const half = capWidth / 2;
  const cap = ([x, y]: Pixel): Segment => ({ x1: x - half, y1: y, x2: x + half, y2: y });
  return [{ x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, cap(low), cap(high)];
}
