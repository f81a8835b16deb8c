/**
 * How the app words the statistics that say how far a search can be trusted: intervals over seeds,
 * a candidate's verdict against its uniform baseline, rank correlations. Written for someone who
 * does not know statistics, so every figure that has an interval shows it, and one without says so.
 */
import type { BaselineComparison, Interval, RankCorrelation, Verdict } from './api/types';

/** Half the width of a symmetric interval (a t-interval); null when there is no interval. */
export function halfWidth(interval: Interval): number | null {
  return interval.low === null || interval.high === null ? null : (interval.high - interval.low) / 2;
}

function points(fraction: number): string {
  return (fraction * 100).toFixed(2);
}

function seeds(interval: Interval): string {
  if (halfWidth(interval) !== null) return `n=${interval.n}`;
  return interval.n === 1 ? 'n=1, one seed: no interval' : `n=${interval.n}, no interval`;
}

/** An accuracy over seeds: "91.20% ± 0.40 (n=3)", or "91.20% (n=1, one seed: no interval)"; "—" before any. */
export function accuracyInterval(interval: Interval | null): string {
  if (!interval) return '—';
  const half = halfWidth(interval);
  return `${points(interval.estimate)}%${half === null ? '' : ` ± ${points(half)}`} (${seeds(interval)})`;
}

/** A difference of accuracies in percentage points, signed: "+1.10 ± 0.60 pts (n=3)". */
export function differenceInterval(interval: Interval): string {
  const half = halfWidth(interval);
  const sign = interval.estimate > 0 ? '+' : interval.estimate < 0 ? '−' : '±';
  return `${sign}${points(Math.abs(interval.estimate))}${half === null ? '' : ` ± ${points(half)}`} pts (${seeds(interval)})`;
}

export const VERDICT_LABEL: Record<Verdict, string> = {
  BETTER: 'better',
  WORSE: 'worse',
  INDISTINGUISHABLE: 'not distinguishable',
  INSUFFICIENT: 'insufficient seeds',
};

/** "×0.750 uniform" for a baseline's width multiplier. */
export function widthLabel(widthMultiplier: number | null): string {
  return widthMultiplier === null ? 'uniform' : `×${widthMultiplier.toFixed(3)} uniform`;
}

function percentOf(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** What a verdict means, in a sentence, with how it was reached: the comparison cell's tooltip. */
export function verdictExplanation(comparison: BaselineComparison): string {
  const baseline = `the ${widthLabel(comparison.baseline.widthMultiplier)} network, the widest uniform width within the same budget`;
  const method = 'Both were retrained from scratch with the same seeds, and each seed\'s difference counts (paired by seed)';
  const { difference, verdict } = comparison;
  if (!difference) return `No seed was retrained for both this candidate and ${baseline}, so there is nothing to compare yet. ${method}.`;
  const interval = `${percentOf(difference.confidence)} t-interval from ${points(difference.low ?? 0)} to ${points(difference.high ?? 0)} points`;
  switch (verdict) {
    case 'BETTER':
      return `Better than ${baseline}: the ${interval} lies above zero. ${method}.`;
    case 'WORSE':
      return `Worse than ${baseline}: the ${interval} lies below zero. ${method}.`;
    case 'INDISTINGUISHABLE':
      return `Not distinguishable from ${baseline}: the ${interval} contains zero, so the seeds do not tell which is better. ${method}.`;
    case 'INSUFFICIENT':
      return `Only ${difference.n} seed${difference.n === 1 ? ' is' : 's are'} shared with ${baseline}: an interval needs at least two, so no verdict. ${method}.`;
  }
}

/** A rank correlation with its bootstrap interval: "0.62 [0.41, 0.80]"; "n/a" when undefined (a side is all equal). */
export function correlationText(interval: Interval | null): string {
  if (!interval) return 'n/a';
  const range = interval.low === null || interval.high === null ? '' : ` [${interval.low.toFixed(2)}, ${interval.high.toFixed(2)}]`;
  return `${interval.estimate.toFixed(2)}${range}`;
}

/** Below two configurations there is no ranking to measure yet. */
const TOO_FEW = 2;

/** "τ = 0.62 [0.41, 0.80]", or "τ not yet" before two configs have both figures. */
export function tauText(correlation: RankCorrelation): string {
  return correlation.configs < TOO_FEW ? 'τ not yet' : `τ = ${correlationText(correlation.kendallTau)}`;
}

/** A ranking chart's title: "τ = 0.62 [0.41, 0.80] · ρ = 0.75 [0.52, 0.90] · 12 configs". */
export function correlationTitle(correlation: RankCorrelation): string {
  if (correlation.configs < TOO_FEW) {
    return `τ and ρ need two configs with both a supernet score and a retrained top-1 (${correlation.configs} so far)`;
  }
  const confidence = correlation.kendallTau?.confidence ?? correlation.spearmanRho?.confidence;
  const level = confidence === undefined ? '' : ` (${percentOf(confidence)} intervals)`;
  return `τ = ${correlationText(correlation.kendallTau)} · ρ = ${correlationText(correlation.spearmanRho)} · ${correlation.configs} configs${level}`;
}
