import { AutoSlimError } from './errors';
import type { Score } from './greedy';

/**
 * Screening, a saving for greedy slimming: score every proposal of a step cheaply (on a smaller
 * batch), then evaluate fully only the `keep` contenders with the best screening accuracy. The
 * others are reported with their screening scores and `screenedOut`, so they cannot win. Screening
 * ranks by accuracy, so it suits the 'accuracy' scoring only.
 *
 * Returns the contenders' indices in ascending order; equal accuracies rank by lower loss, then by
 * lower index, as the greedy's own tie-break does.
 */
export function screenContenders(screen: readonly Score[], keep: number): number[] {
  if (!Number.isInteger(keep) || keep < 1) throw new AutoSlimError('keep', 'positive-integer', `keep must be a positive integer, got ${keep}`);
  const ranked = screen.map((s, i) => ({ s, i }));
  ranked.sort((a, b) => b.s.accuracy - a.s.accuracy || (a.s.loss ?? Infinity) - (b.s.loss ?? Infinity) || a.i - b.i);
  return ranked
    .slice(0, keep)
    .map((r) => r.i)
    .sort((a, b) => a - b);
}
