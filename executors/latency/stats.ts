/** Summary statistics of timing samples, in the unit of the samples. */
export interface TimingStats {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1). */
  readonly std: number;
}

export function summarize(samples: readonly number[]): TimingStats {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const variance = sorted.length > 1 ? sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (sorted.length - 1) : 0;
  return { median: quantile(sorted, 0.5), p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9), mean, std: Math.sqrt(variance) };
}

/** Linear interpolation between order statistics (numpy's default), on ascending samples. */
function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}
