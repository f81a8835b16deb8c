/**
 * The calibration of a latency table: how whole-model latency follows from the summed latencies
 * of its blocks, fit by least squares on calibration models. Pure functions.
 *
 * A block timed alone runs with its weights and input hot in cache and without its neighbours'
 * dispatch, and what that changes differs by kind of kernel: a depthwise conv is memory-bound, a
 * pointwise conv compute-bound. So a model's latency is fit as an intercept (the per-inference
 * overhead) plus one coefficient per kind of block on that kind's summed latency, shrunk towards a
 * single common scale by a ridge penalty whose strength leave-one-out cross-validation on the
 * calibration models picks: with few calibration models, or kinds that do not differ, the fit
 * falls back to overhead + scale × sum.
 */
import type { GraphNode } from '../../autoslim/graph';

/** What a block's kernels do, as far as their cost per millisecond timed alone is concerned. */
export const BLOCK_KINDS = ['pointwise', 'depthwise', 'conv', 'other'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export function blockKind(nodes: readonly GraphNode[]): BlockKind {
  const head = nodes[0];
  if (head.op !== 'conv') return 'other';
  if (head.groups > 1 && head.groups === head.inChannels) return 'depthwise';
  return head.kernel === 1 ? 'pointwise' : 'conv';
}

/** One calibration model: its summed block latency per kind (BLOCK_KINDS order) and its measured latency. */
export interface CalibrationRow {
  readonly kindSumsMs: readonly number[];
  readonly measuredMs: number;
}

/** predicted = interceptMs + Σ coefficients[k] × (summed block latency of kind BLOCK_KINDS[k]). */
export interface LatencyModel {
  readonly interceptMs: number;
  readonly coefficients: readonly number[];
  /** Ridge strength the cross-validation chose; Infinity: one common scale for every kind. */
  readonly ridge: number;
  /** Mean absolute relative error of leave-one-out predictions on the calibration models. */
  readonly looMape: number;
}

export function predictWith(model: Pick<LatencyModel, 'interceptMs' | 'coefficients'>, kindSumsMs: readonly number[]): number {
  return kindSumsMs.reduce((sum, x, k) => sum + model.coefficients[k] * x, model.interceptMs);
}

/** Ridge strengths tried, per calibration model (the residuals are relative, a few percent each). */
const RIDGES = [1e-4, 1e-3, 1e-2, 1e-1, 1, Infinity];

/**
 * The model of least leave-one-out error among the ridge strengths; `floorKindSumsMs` is the
 * narrowest configuration's, and a model that predicts no time for it is never chosen.
 */
export function fitLatencyModel(rows: readonly CalibrationRow[], floorKindSumsMs: readonly number[]): LatencyModel {
  if (rows.length < 2) throw new Error(`latency calibration: needs at least 2 calibration models, got ${rows.length}`);
  let best: LatencyModel | null = null;
  for (const ridge of RIDGES) {
    const model = fitAt(rows, ridge);
    if (!plausible(model, floorKindSumsMs)) continue;
    const looMape = leaveOneOut(rows, ridge, floorKindSumsMs);
    if (best === null || looMape < best.looMape) best = { ...model, ridge, looMape };
  }
  return best ?? { ...plainSum(rows), ridge: Infinity, looMape: leaveOneOut(rows, Infinity, floorKindSumsMs) };
}

function leaveOneOut(rows: readonly CalibrationRow[], ridge: number, floor: readonly number[]): number {
  const errors = rows.map((row, i) => {
    const rest = rows.filter((_, j) => j !== i);
    const model = rest.length >= 2 ? fitAt(rest, ridge) : null;
    const usable = model && plausible(model, floor) ? model : plainSum(rest);
    return Math.abs(predictWith(usable, row.kindSumsMs) / row.measuredMs - 1);
  });
  return errors.reduce((s, e) => s + e, 0) / errors.length;
}

function plausible(model: Pick<LatencyModel, 'interceptMs' | 'coefficients'>, floor: readonly number[]): boolean {
  return model.coefficients.every((c) => c > 0 && Number.isFinite(c)) && Number.isFinite(model.interceptMs) && predictWith(model, floor) > 0;
}

/** The plain sum of blocks plus the mean difference: what is left when no line fits. */
function plainSum(rows: readonly CalibrationRow[]): Pick<LatencyModel, 'interceptMs' | 'coefficients'> {
  const mean = rows.reduce((s, r) => s + r.measuredMs - total(r.kindSumsMs), 0) / rows.length;
  return { interceptMs: mean, coefficients: BLOCK_KINDS.map(() => 1) };
}

/**
 * Least squares of relative residuals (each divided by its measurement, as the error is judged).
 * Infinity fits one scale for every kind; a finite ridge adds λ·n·(c_k − s)² per kind, s being
 * that common scale, and kinds no calibration model has drop out at the common scale.
 */
export function fitAt(rows: readonly CalibrationRow[], ridge: number): Pick<LatencyModel, 'interceptMs' | 'coefficients'> {
  const weights = rows.map((r) => 1 / r.measuredMs ** 2);
  const common = weightedLeastSquares(
    rows.map((r) => [1, total(r.kindSumsMs)]),
    rows.map((r) => r.measuredMs),
    weights,
  );
  const [interceptMs, scale] = common ?? [0, 1];
  if (ridge === Infinity || !common) return { interceptMs, coefficients: BLOCK_KINDS.map(() => scale) };
  const present = BLOCK_KINDS.map((_, k) => rows.some((r) => r.kindSumsMs[k] > 0));
  const kinds = BLOCK_KINDS.map((_, k) => k).filter((k) => present[k]);
  const design = rows.map((r) => [1, ...kinds.map((k) => r.kindSumsMs[k])]);
  const targets = rows.map((r) => r.measuredMs);
  // The penalty as extra observations: √(λn)·c_k = √(λn)·s, each of weight 1.
  const strength = Math.sqrt(ridge * rows.length);
  kinds.forEach((_, i) => {
    design.push([0, ...kinds.map((__, j) => (i === j ? strength : 0))]);
    targets.push(strength * scale);
    weights.push(1);
  });
  const solved = weightedLeastSquares(design, targets, weights);
  if (!solved) return { interceptMs, coefficients: BLOCK_KINDS.map(() => scale) };
  const coefficients = BLOCK_KINDS.map((_, k) => (present[k] ? solved[1 + kinds.indexOf(k)] : scale));
  return { interceptMs: solved[0], coefficients };
}

/** β minimizing Σ wᵢ (yᵢ − xᵢ·β)²; null when the normal equations are singular. */
export function weightedLeastSquares(design: readonly (readonly number[])[], targets: readonly number[], weights: readonly number[]): number[] | null {
  const p = design[0]?.length ?? 0;
  const a = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  design.forEach((x, i) => {
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) a[r][c] += weights[i] * x[r] * x[c];
      a[r][p] += weights[i] * x[r] * targets[i];
    }
  });
  return solve(a);
}

/** Gauss–Jordan elimination with partial pivoting on an augmented p × (p + 1) matrix. */
function solve(a: number[][]): number[] | null {
  const p = a.length;
  const magnitude = Math.max(...a.map((row) => Math.max(...row.slice(0, p).map(Math.abs))));
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (!(Math.abs(a[pivot][col]) > 1e-12 * magnitude)) return null;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const factor = a[r][col] / a[col][col];
      for (let c = col; c <= p; c++) a[r][c] -= factor * a[col][c];
    }
  }
  return a.map((row, r) => row[p] / row[r]);
}

function total(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0);
}
