import { LatencyTable } from '../../server/entities';
import { validationOf, validationWarning } from '../../server/services/latency-service';

/** A table validated on rows of (predicted, measured) ms. */
function tableOf(rows: readonly [number, number][], within5: number): LatencyTable {
  const table = new LatencyTable();
  Object.assign(table, {
    version: 4,
    validationConfigs: rows.length,
    mape: 0.031,
    within5,
    within10: 1,
    validationRows: rows.map(([predictedMs, measuredMs], i) => ({ channels: [i], predictedMs, measuredMs })),
  });
  return table;
}

describe('a latency table short of the goal', () => {
  const ordered: [number, number][] = [
    [1, 1.01],
    [2, 1.98],
    [3, 3.05],
    [4, 4.1],
  ];

  it('gives no warning when ≥ 95% of its validation is within ±5% and τ ≥ 0.95', () => {
    expect(validationOf(tableOf(ordered, 0.95))).toEqual({ configs: 4, mape: 0.031, within5: 0.95, within10: 1, kendallTau: 1 });
    expect(validationWarning(tableOf(ordered, 0.95))).toBeNull();
  });

  it('warns with the figures that fall short', () => {
    expect(validationWarning(tableOf(ordered, 0.6))).toBe(
      'latency table v4 is weaker than the goal: 60% of validation configurations within ±5% (goal ≥ 95%); MAPE 3% over 4 configurations. ' +
        'Predicted latencies may miss their budgets: check the measured latency of every candidate',
    );
    // One of six pairs discordant: τ = (5 − 1) / 6.
    const swapped: [number, number][] = [
      [1, 1.01],
      [3, 1.98],
      [2, 3.05],
      [4, 4.1],
    ];
    expect(validationWarning(tableOf(swapped, 1))).toMatch(/weaker than the goal: Kendall τ 0\.67 \(goal ≥ 0\.95\); MAPE 3%/);
    expect(validationWarning(tableOf(ordered.slice(0, 1), 1))).toMatch(/Kendall τ undefined/);
  });
});
