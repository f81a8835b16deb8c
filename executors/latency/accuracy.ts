import { kendallTauB } from '../../autoslim';

/** How well predictions match measurements: the figures a latency table is judged by. */
export interface PredictionAccuracy {
  readonly configs: number;
  /** Mean absolute percentage error, as a fraction. */
  readonly mape: number;
  /** Shares of predictions within ±5% and ±10% of their measurement. */
  readonly within5: number;
  readonly within10: number;
  /** Kendall's τ-b between predicted and measured; null below two configurations or without any order. */
  readonly kendallTau: number | null;
}

export function accuracy(predicted: readonly number[], measured: readonly number[]): PredictionAccuracy {
  if (predicted.length !== measured.length) throw new Error(`accuracy: ${predicted.length} predictions for ${measured.length} measurements`);
  const errors = predicted.map((p, i) => Math.abs(p / measured[i] - 1));
  const share = (limit: number) => (errors.length ? errors.filter((e) => e <= limit).length / errors.length : 0);
  const tau = predicted.length >= 2 ? kendallTauB(predicted, measured) : Number.NaN;
  return {
    configs: errors.length,
    mape: errors.length ? errors.reduce((s, e) => s + e, 0) / errors.length : 0,
    within5: share(0.05),
    within10: share(0.1),
    kendallTau: Number.isNaN(tau) ? null : tau,
  };
}
