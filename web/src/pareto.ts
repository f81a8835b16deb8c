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
  readonly exportedTop1: number | null;
  readonly inheritedTop1: number | null;
}

/**
 * Which accuracy a ranking compares. They are on different scales (supernet weights on the search
 * hold-out, a full training on the test split, a file with folded BN), so one ranking never mixes them.
 */
export type AccuracyBasis = 'search' | 'retrained' | 'exported' | 'inherited';

/** In the order a tie in coverage is settled: the figure closest to what a user deploys first. */
export const ACCURACY_BASES: readonly AccuracyBasis[] = ['retrained', 'exported', 'search', 'inherited'];

export const BASIS_LABEL: Record<AccuracyBasis, string> = {
  search: 'search accuracy',
  retrained: 'retrained top-1',
  exported: 'exported top-1',
  inherited: 'inherited top-1',
};

/** Which split and which weights each accuracy is: said wherever one is shown. */
export const BASIS_MEANING: Record<AccuracyBasis, string> = {
  search: 'search hold-out split, supernet weights',
  retrained: 'test split, retrained from scratch, mean over seeds',
  exported: 'test split, the latest exported ONNX file',
  inherited: 'test split, weights inherited from the supernet with BN recalibrated, before any training',
};

export function accuracyOf(candidate: AccuracySource, basis: AccuracyBasis): number | null {
  switch (basis) {
    case 'search':
      return candidate.searchAccuracy;
    case 'retrained':
      return candidate.retrainedTop1Mean;
    case 'exported':
      return candidate.exportedTop1;
    case 'inherited':
      return candidate.inheritedTop1;
  }
}

export function parseBasis(text: string | undefined): AccuracyBasis | null {
  return (ACCURACY_BASES as readonly string[]).includes(text ?? '') ? (text as AccuracyBasis) : null;
}

/** How many candidates have each accuracy. */
export function basisCoverage(candidates: readonly AccuracySource[]): Record<AccuracyBasis, number> {
  const coverage = { search: 0, retrained: 0, exported: 0, inherited: 0 };
  for (const c of candidates) for (const basis of ACCURACY_BASES) if (accuracyOf(c, basis) != null) coverage[basis]++;
  return coverage;
}

/**
 * The accuracy shown until the user picks one: the one most candidates have, so that one finished
 * retraining does not turn a plot of six candidates into a plot of one.
 */
export function defaultBasis(candidates: readonly AccuracySource[]): AccuracyBasis {
  const coverage = basisCoverage(candidates);
  return ACCURACY_BASES.reduce((best, basis) => (coverage[basis] > coverage[best] ? basis : best));
}

/** The candidates that have the basis's accuracy, as points; the others are for the caller to list. */
export function scoredPoints(candidates: readonly AccuracySource[], basis: AccuracyBasis): ScoredPoint[] {
  return candidates.flatMap((c) => {
    const accuracy = accuracyOf(c, basis);
    return accuracy == null ? [] : [{ id: c.id, cost: c.macs, accuracy }];
  });
}

/** Tick steps of an accuracy axis, as fractions: whole percents up to tens of percents. */
const AXIS_STEPS = [0.01, 0.02, 0.05, 0.1];

/**
 * An accuracy axis that frames the values (fractions, error bar ends included) with some room, on
 * a round tick step, never past 0% or 100%: one point at 50% gets 48–52%, not 20–120%.
 */
export function accuracyAxisBounds(values: readonly number[]): { min: number; max: number; step: number } {
  if (values.length === 0) return { min: 0, max: 1, step: 0.1 };
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max(0.02, (high - low) * 0.1);
  // About five to ten ticks over the padded span.
  const step = AXIS_STEPS.find((s) => (high - low + 2 * pad) / s <= 10) ?? 0.1;
  // The epsilon keeps float noise (0.52 / 0.01 = 52.00000000000001) from adding a whole step.
  const min = Math.max(0, Math.floor((low - pad) / step + 1e-9) * step);
  const max = Math.min(1, Math.ceil((high + pad) / step - 1e-9) * step);
  // Whole percents, without the float tail of the multiplication.
  return { min: Math.round(min * 100) / 100, max: Math.round(max * 100) / 100, step };
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
