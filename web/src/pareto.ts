/** Non-dominated sorting of candidates over cost (lower is better) and accuracy (higher is better). */

export interface ScoredPoint {
  readonly id: string;
  readonly cost: number;
  readonly accuracy: number;
}

export interface AccuracySource {
  readonly id: string;
  readonly macs: number;
  readonly searchAccuracy: number | null;
  readonly retrainedTop1Mean: number | null;
}

/** Which accuracy a ranking compares: retrained top-1 once anything was retrained, else search accuracy. */
export type AccuracyBasis = 'retrained' | 'search';

export function accuracyBasis(candidates: readonly AccuracySource[]): AccuracyBasis {
  return candidates.some((c) => c.retrainedTop1Mean != null) ? 'retrained' : 'search';
}

export function basisLabel(basis: AccuracyBasis): string {
  return basis === 'retrained' ? 'retrained top-1' : 'search accuracy (nothing retrained yet)';
}

/**
 * The points a ranking compares. Search and retrained accuracy are on different scales (supernet
 * weights versus a full training), so one ranking never mixes them: candidates without the basis's
 * accuracy are left out.
 */
export function scoredPoints(candidates: readonly AccuracySource[], basis: AccuracyBasis): ScoredPoint[] {
  return candidates.flatMap((c) => {
    const accuracy = basis === 'retrained' ? c.retrainedTop1Mean : c.searchAccuracy;
    return accuracy == null ? [] : [{ id: c.id, cost: c.macs, accuracy }];
  });
}

/**
 * Pareto rank of every point: 1 for the front, 2 for the front of what remains, and so on.
 * O(n log n): sweeping by cost, the fronts' best accuracies so far decrease with the rank, so a
 * binary search finds the first front that does not dominate the point.
 */
export function paretoRanks(points: readonly ScoredPoint[]): Map<string, number> {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy);
  const bestAccuracy: number[] = [];
  const ranks = new Map<string, number>();
  for (let i = 0; i < sorted.length; ) {
    // Identical points do not dominate each other: they share one rank.
    let end = i + 1;
    while (end < sorted.length && sorted[end]!.cost === sorted[i]!.cost && sorted[end]!.accuracy === sorted[i]!.accuracy) end++;
    const accuracy = sorted[i]!.accuracy;
    const front = firstFrontBelow(bestAccuracy, accuracy);
    bestAccuracy[front] = accuracy;
    for (let j = i; j < end; j++) ranks.set(sorted[j]!.id, front + 1);
    i = end;
  }
  return ranks;
}

/** Index of the first front whose best accuracy is below `accuracy` (the fronts' values decrease). */
function firstFrontBelow(bestAccuracy: readonly number[], accuracy: number): number {
  let low = 0;
  let high = bestAccuracy.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (bestAccuracy[mid]! >= accuracy) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The rank-1 points in increasing cost: the line a Pareto plot draws. */
export function paretoFront(points: readonly ScoredPoint[]): ScoredPoint[] {
  const ranks = paretoRanks(points);
  return points.filter((p) => ranks.get(p.id) === 1).sort((a, b) => a.cost - b.cost);
}
