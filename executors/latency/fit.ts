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
 * falls back to overhead + scale × sum. The same cross-validation decides whether two terms earn
 * their place: the layout conversions between blocks (blocks.ts, layoutConversions), which no
 * block timed alone pays for, and the conversions blocks timed alone pay for that the network
 * does not (blocks.ts, isolatedConversions).
 */
import type { GraphNode } from '../../autoslim/graph';
import { runsBlocked } from './blocks';

/**
 * What a block's kernels do, as far as their cost per millisecond timed alone is concerned: the
 * operation, and whether its channels are multiples of the NCHWc block (blocks.ts, runsBlocked;
 * `/nchw` where they are not). Timed alone, such a block converts between layouts around itself,
 * which in the network it mostly does not (isolatedConversions): it costs the network other than
 * it costs alone.
 */
export const BLOCK_KINDS = [
  'pointwise',
  'pointwise/nchw',
  'depthwise',
  'depthwise/nchw',
  'conv',
  'conv/nchw',
  'other',
  'other/nchw',
] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export function blockKind(nodes: readonly GraphNode[]): BlockKind {
  const head = nodes[0];
  const operation = head.op !== 'conv' ? 'other' : head.groups > 1 && head.groups === head.inChannels ? 'depthwise' : head.kernel === 1 ? 'pointwise' : 'conv';
  return runsBlocked(head) ? operation : `${operation}/nchw`;
}

/** What a model is predicted from: its summed block latency per kind (BLOCK_KINDS order), its layout conversions. */
export interface Features {
  readonly kindSumsMs: readonly number[];
  /** Millions of values converted between layouts; 0 where the network never changes layout. */
  readonly layoutMelems: number;
  /** Millions of values its blocks, timed alone, convert between layouts that the network does not. */
  readonly isolatedMelems: number;
}

/** One calibration model: its features and its measured latency. */
export interface CalibrationRow extends Features {
  readonly measuredMs: number;
}

/**
 * predicted = interceptMs + Σ coefficients[k] × (summed block latency of kind BLOCK_KINDS[k])
 *           + layoutMsPerMelem × layoutMelems + isolatedMsPerMelem × isolatedMelems.
 */
export interface LatencyModel {
  readonly interceptMs: number;
  readonly coefficients: readonly number[];
  readonly layoutMsPerMelem: number;
  /** Never positive: what the blocks' timings hold for conversions the network does not make. Absent from older tables: 0. */
  readonly isolatedMsPerMelem?: number;
  /** Ridge strength the cross-validation chose; null: one common scale for every kind (JSON has no Infinity). */
  readonly ridge: number | null;
  /** Mean absolute relative error of leave-one-out predictions on the calibration models. */
  readonly looMape: number;
}

type Fit = Pick<LatencyModel, 'interceptMs' | 'coefficients' | 'layoutMsPerMelem' | 'isolatedMsPerMelem'>;

export function predictWith(model: Fit, features: Features): number {
  const conversions = model.layoutMsPerMelem * features.layoutMelems + (model.isolatedMsPerMelem ?? 0) * features.isolatedMelems;
  return features.kindSumsMs.reduce((sum, x, k) => sum + model.coefficients[k] * x, model.interceptMs + conversions);
}

/** Which conversion terms a fit has beside the blocks. */
export interface Terms {
  readonly layout: boolean;
  readonly isolated: boolean;
}

const NO_TERMS: Terms = { layout: false, isolated: false };

/** Ridge strengths tried, per calibration model (the residuals are relative, a few percent each). */
const RIDGES = [1e-4, 1e-3, 1e-2, 1e-1, 1, Infinity];

/**
 * The model of least leave-one-out error among the ridge strengths, with and without each
 * conversion term; `floor` is the narrowest configuration's, and a model that predicts no time for it is never chosen.
 */
export function fitLatencyModel(rows: readonly CalibrationRow[], floor: Features): LatencyModel {
  if (rows.length < 2) throw new Error(`latency calibration: needs at least 2 calibration models, got ${rows.length}`);
  const options = (present: boolean) => (present ? [false, true] : [false]);
  const choices = options(rows.some((r) => r.layoutMelems > 0)).flatMap((layout) =>
    options(rows.some((r) => r.isolatedMelems > 0)).map((isolated): Terms => ({ layout, isolated })),
  );
  let best: LatencyModel | null = null;
  for (const terms of choices) {
    for (const ridge of RIDGES) {
      const model = fitAt(rows, ridge, terms);
      if (!plausible(model, floor)) continue;
      const looMape = leaveOneOut(rows, ridge, terms, floor);
      if (best === null || looMape < best.looMape) best = { ...model, ridge: ridge === Infinity ? null : ridge, looMape };
    }
  }
  return best ?? { ...plainSum(rows), ridge: null, looMape: leaveOneOut(rows, Infinity, NO_TERMS, floor) };
}

function leaveOneOut(rows: readonly CalibrationRow[], ridge: number, terms: Terms, floor: Features): number {
  const errors = rows.map((row, i) => {
    const rest = rows.filter((_, j) => j !== i);
    const model = rest.length >= 2 ? fitAt(rest, ridge, terms) : null;
    const usable = model && plausible(model, floor) ? model : plainSum(rest);
    return Math.abs(predictWith(usable, row) / row.measuredMs - 1);
  });
  return errors.reduce((s, e) => s + e, 0) / errors.length;
}

/**
 * Every kind of block takes time, a layout conversion never saves any (nor is one that only the
 * blocks timed alone made part of the network's time), and the narrowest model takes some.
 */
function plausible(model: Fit, floor: Features): boolean {
  return (
    model.coefficients.every((c) => c > 0 && Number.isFinite(c)) &&
    model.layoutMsPerMelem >= 0 &&
    (model.isolatedMsPerMelem ?? 0) <= 0 &&
    Number.isFinite(model.interceptMs) &&
    predictWith(model, floor) > 0
  );
}

/** The plain sum of blocks plus the mean difference: what is left when no line fits. */
function plainSum(rows: readonly CalibrationRow[]): Fit {
  const mean = rows.reduce((s, r) => s + r.measuredMs - total(r.kindSumsMs), 0) / rows.length;
  return { interceptMs: mean, coefficients: BLOCK_KINDS.map(() => 1), layoutMsPerMelem: 0, isolatedMsPerMelem: 0 };
}

/**
 * Least squares of relative residuals (each divided by its measurement, as the error is judged).
 * Infinity fits one scale for every kind; a finite ridge adds λ·n·(c_k − s)² per kind, s being
 * that common scale, and kinds no calibration model has drop out at the common scale. Each of
 * `terms` adds a free coefficient on its conversions to both fits.
 */
export function fitAt(rows: readonly CalibrationRow[], ridge: number, terms: Terms = NO_TERMS): Fit {
  const weights = rows.map((r) => 1 / r.measuredMs ** 2);
  const targets = rows.map((r) => r.measuredMs);
  const extra = (r: CalibrationRow) => [...(terms.layout ? [r.layoutMelems] : []), ...(terms.isolated ? [r.isolatedMelems] : [])];
  const extras = (terms.layout ? 1 : 0) + (terms.isolated ? 1 : 0);
  // The conversion coefficients in the order `extra` lists them, zero for a term left out.
  const conversions = (solved: readonly number[]) => ({
    layoutMsPerMelem: terms.layout ? solved[0] : 0,
    isolatedMsPerMelem: terms.isolated ? solved[terms.layout ? 1 : 0] : 0,
  });
  const common = weightedLeastSquares(
    rows.map((r) => [1, total(r.kindSumsMs), ...extra(r)]),
    targets,
    weights,
  );
  const [interceptMs, scale, ...commonExtras] = common ?? [0, 1, 0, 0];
  const commonFit = { interceptMs, coefficients: BLOCK_KINDS.map(() => scale), ...conversions(commonExtras) };
  if (ridge === Infinity || !common) return commonFit;
  const present = BLOCK_KINDS.map((_, k) => rows.some((r) => r.kindSumsMs[k] > 0));
  const kinds = BLOCK_KINDS.map((_, k) => k).filter((k) => present[k]);
  const design = rows.map((r) => [1, ...kinds.map((k) => r.kindSumsMs[k]), ...extra(r)]);
  const penalized = [...targets];
  const penaltyWeights = [...weights];
  // The penalty as extra observations: √(λn)·c_k = √(λn)·s, each of weight 1.
  const strength = Math.sqrt(ridge * rows.length);
  kinds.forEach((_, i) => {
    design.push([0, ...kinds.map((__, j) => (i === j ? strength : 0)), ...new Array<number>(extras).fill(0)]);
    penalized.push(strength * scale);
    penaltyWeights.push(1);
  });
  const solved = weightedLeastSquares(design, penalized, penaltyWeights);
  if (!solved) return commonFit;
  const coefficients = BLOCK_KINDS.map((_, k) => (present[k] ? solved[1 + kinds.indexOf(k)] : scale));
  return { interceptMs: solved[0], coefficients, ...conversions(solved.slice(1 + kinds.length)) };
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
