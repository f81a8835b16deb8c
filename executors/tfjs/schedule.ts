/** Learning-rate schedules as pure functions of the iteration. */

export type DecaySchedule =
  | { readonly kind: 'linear' }
  | { readonly kind: 'cosine' }
  /** Multiplies by `gamma` at every fraction of training listed in `milestones`. */
  | { readonly kind: 'step'; readonly milestones: readonly number[]; readonly gamma: number };

export interface LrSchedule {
  readonly baseLr: number;
  readonly totalIterations: number;
  /** Iterations of linear warmup from 0 to baseLr, before the decay starts. */
  readonly warmupIterations: number;
  readonly decay: DecaySchedule;
}

export function checkSchedule(s: LrSchedule): LrSchedule {
  if (!(s.baseLr > 0)) throw new Error(`baseLr must be positive, got ${s.baseLr}`);
  if (!Number.isInteger(s.totalIterations) || s.totalIterations < 1) {
    throw new Error(`totalIterations must be a positive integer, got ${s.totalIterations}`);
  }
  if (!Number.isInteger(s.warmupIterations) || s.warmupIterations < 0 || s.warmupIterations >= s.totalIterations) {
    throw new Error(`warmupIterations must be an integer in [0, totalIterations), got ${s.warmupIterations}`);
  }
  if (s.decay.kind === 'step') {
    if (s.decay.milestones.some((m) => !(m > 0 && m < 1))) throw new Error('decay.milestones must be fractions in (0, 1)');
    if (!(s.decay.gamma > 0 && s.decay.gamma < 1)) throw new Error(`decay.gamma must be in (0, 1), got ${s.decay.gamma}`);
  }
  return s;
}

/** The learning rate of iteration `t` (0-based): decayed per iteration, reaching 0 at the end for linear and cosine. */
export function learningRate(s: LrSchedule, t: number): number {
  if (t < s.warmupIterations) return (s.baseLr * (t + 1)) / (s.warmupIterations + 1);
  const progress = Math.min(1, (t - s.warmupIterations) / (s.totalIterations - s.warmupIterations));
  switch (s.decay.kind) {
    case 'linear':
      return s.baseLr * (1 - progress);
    case 'cosine':
      return s.baseLr * 0.5 * (1 + Math.cos(Math.PI * progress));
    case 'step': {
      const passed = s.decay.milestones.filter((m) => progress >= m).length;
      return s.baseLr * s.decay.gamma ** passed;
    }
  }
}
