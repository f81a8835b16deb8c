/**
 * The statistics that say how far a search can be trusted (TRUST.md): intervals over seeds, paired
 * differences, rank correlations and bootstrap intervals. Pure and deterministic (the bootstrap is
 * seeded), so a figure shown twice is the same figure.
 */
import { AutoSlimError } from './errors';

/** An estimate with its two-sided interval; low and high are null when n is too small for one. */
export interface Interval {
  readonly estimate: number;
  readonly low: number | null;
  readonly high: number | null;
  readonly n: number;
  readonly confidence: number;
}

export const CONFIDENCE = 0.95;

/** The mean of `values` with Student's t-interval; no interval below two values. */
export function meanInterval(values: readonly number[], confidence = CONFIDENCE): Interval {
  checkFinite('values', values);
  checkConfidence(confidence);
  const n = values.length;
  if (n === 0) throw new AutoSlimError('values', 'non-empty', 'a mean needs at least one value');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { estimate: mean, low: null, high: null, n, confidence };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantile(1 - (1 - confidence) / 2, n - 1) * Math.sqrt(variance / n);
  return { estimate: mean, low: mean - half, high: mean + half, n, confidence };
}

/**
 * a − b paired by key (a seed): the t-interval of the per-key differences, over the keys both have.
 * Pairing removes what a seed does to both configurations alike, so the interval is tighter than
 * one comparing two means. Null when no key is shared.
 */
export function pairedDifference(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
  confidence = CONFIDENCE,
): Interval | null {
  const differences = [...a].filter(([key]) => b.has(key)).map(([key, value]) => value - b.get(key)!);
  return differences.length === 0 ? null : meanInterval(differences, confidence);
}

/**
 * Whether a difference is real at its confidence: 'better' or 'worse' when the interval excludes
 * zero, 'indistinguishable' when it holds zero, 'insufficient' when there is no interval (n < 2).
 */
export type Verdict = 'better' | 'worse' | 'indistinguishable' | 'insufficient';

export function verdictOf(difference: Interval): Verdict {
  if (difference.low === null || difference.high === null) return 'insufficient';
  if (difference.low > 0) return 'better';
  if (difference.high < 0) return 'worse';
  return 'indistinguishable';
}

/**
 * Kendall's τ-b: (concordant − discordant) / sqrt((pairs − ties in x)(pairs − ties in y)), which
 * is τ-a when nothing ties. NaN when either side is constant (no ordering to agree with).
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const pairs = (x.length * (x.length - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiesX) * (pairs - tiesY));
  return denominator === 0 ? Number.NaN : (concordant - discordant) / denominator;
}

/** Spearman's ρ: Pearson's correlation of the ranks, ties given their average rank. */
export function spearmanRho(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  return pearson(ranks(x), ranks(y));
}

/** 1-based ranks; tied values share the mean of the ranks they span. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k]![1]] = rank;
    start = end + 1;
  }
  return out;
}

function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

export interface BootstrapOptions {
  readonly resamples?: number;
  readonly seed?: number;
  readonly confidence?: number;
}

/**
 * Percentile bootstrap interval of a statistic of `n` paired items (e.g. τ over configurations):
 * `statistic` gets the resampled item indices. Resamples whose statistic is undefined (NaN, e.g. a
 * resample of identical items) are left out; null when fewer than half remain.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: readonly number[]) => number,
  options: BootstrapOptions = {},
): { readonly low: number; readonly high: number } | null {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? CONFIDENCE;
  checkConfidence(confidence);
  if (!Number.isInteger(n) || n < 2) throw new AutoSlimError('n', 'at-least-two', `a bootstrap needs at least two items, has ${n}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new AutoSlimError('resamples', 'positive', `got ${resamples}`);
  const random = mulberry32(options.seed ?? 0);
  const values: number[] = [];
  const indices = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    const value = statistic(indices);
    if (!Number.isNaN(value)) values.push(value);
  }
  if (values.length < resamples / 2) return null;
  values.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return { low: quantileOfSorted(values, tail), high: quantileOfSorted(values, 1 - tail) };
}

/** Linear interpolation between order statistics (type 7, as NumPy's default). */
function quantileOfSorted(sorted: readonly number[], p: number): number {
  const position = p * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

/** A small seeded generator: the bootstrap needs reproducibility, not cryptographic quality. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom, by bisection on its CDF (through the
 * regularized incomplete beta function); accurate to about 1e-10, plenty for an interval.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new AutoSlimError('p', 'open-unit-interval', `a quantile needs 0 < p < 1, got ${p}`);
  if (!(df > 0)) throw new AutoSlimError('df', 'positive', `degrees of freedom must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * Math.max(1, high); i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Regularized incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes §6.4). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const numerator of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** Lanczos approximation (g = 7, 9 terms). */
function logGamma(z: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - logGamma(1 - z);
  const x = z - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (x + i);
  const t = x + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

function checkPaired(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new AutoSlimError('y', 'same-length', `needs as many values as x (${x.length}), has ${y.length}`);
  if (x.length < 2) throw new AutoSlimError('x', 'at-least-two', `a rank correlation needs at least two pairs, has ${x.length}`);
  checkFinite('x', x);
  checkFinite('y', y);
}

function checkFinite(field: string, values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new AutoSlimError(`${field}[${i}]`, 'finite', `got ${v}`);
  });
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new AutoSlimError('confidence', 'open-unit-interval', `must be between 0 and 1, got ${confidence}`);
}
