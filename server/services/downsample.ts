export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Largest-Triangle-Three-Buckets: keeps the first and last point and, from each bucket between,
 * the point that spans the largest triangle with its neighbours, so spikes and trends survive
 * where plain striding would drop them.
 */
export function downsample<P extends Point>(points: readonly P[], maxPoints: number): P[] {
  if (points.length <= maxPoints) return [...points];
  if (maxPoints < 3) return [points[0]!, points[points.length - 1]!].slice(0, maxPoints);
  const kept: P[] = [points[0]!];
  const bucketSize = (points.length - 2) / (maxPoints - 2);
  let anchor = points[0]!;
  for (let bucket = 0; bucket < maxPoints - 2; bucket++) {
    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, points.length);
    let meanX = 0;
    let meanY = 0;
    for (let i = end; i < nextEnd; i++) {
      meanX += points[i]!.x;
      meanY += points[i]!.y;
    }
    const nextCount = Math.max(1, nextEnd - end);
    meanX /= nextCount;
    meanY /= nextCount;
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const p = points[i]!;
      const area = Math.abs((anchor.x - meanX) * (p.y - anchor.y) - (anchor.x - p.x) * (meanY - anchor.y));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    anchor = points[best]!;
    kept.push(anchor);
  }
  kept.push(points[points.length - 1]!);
  return kept;
}
